// Sorts a table by any column when its header is clicked: numbers as numbers, text in the page's language
// (Russian collation), empty cells always last; the totals line (tfoot) stays where it is.
(function () {
  const language = document.documentElement.lang || "ru";
  const collator = new Intl.Collator(language, { numeric: true, sensitivity: "base" });

  const cellValue = (row, index) => {
    const cell = row.cells[index];
    if (!cell) return "";
    return cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
  };

  const compare = (kind, a, b) => {
    if (a === "" || b === "") return a === b ? 0 : a === "" ? 1 : -1;
    if (kind === "text") return collator.compare(a, b);
    return parseFloat(a) - parseFloat(b);
  };

  const sortBy = (table, header) => {
    const headers = Array.from(header.parentElement.children);
    const index = headers.indexOf(header);
    const kind = header.dataset.kind || "text";
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    headers.forEach((other) => other.removeAttribute("aria-sort"));
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows).filter((row) => row.cells.length === headers.length);
    rows.sort((first, second) => {
      const a = cellValue(first, index);
      const b = cellValue(second, index);
      if (a === "" || b === "") return compare(kind, a, b);
      const order = compare(kind, a, b);
      return ascending ? order : -order;
    });
    rows.forEach((row) => body.appendChild(row));
  };

  document.querySelectorAll("table[data-sortable]").forEach((table) => {
    const head = table.tHead && table.tHead.rows[0];
    if (!head) return;
    Array.from(head.cells).forEach((header) => {
      const button = header.querySelector("button") || header;
      button.addEventListener("click", () => sortBy(table, header));
    });
  });
})();
