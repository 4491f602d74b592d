// The annual report form: recomputes the totals and the coverage (lines 3, 3.1, 4) as the chair types,
// from the same rule as the server (members / (working + students) × 100, one decimal, half up).
(function () {
  "use strict";
  const form = document.getElementById("report-form");
  if (!form) return;
  const COLUMNS = ["start", "end", "women"];

  function entered(key, column) {
    const input = form.querySelector(`input[name="${key}_${COLUMNS[column]}"]`);
    if (!input || input.value.trim() === "") return null;
    const value = Number(input.value);
    return Number.isFinite(value) ? value : null;
  }

  function registered(key, column) {
    const cell = form.querySelector(`tr[data-key="${key}"] td[data-column="${column}"]`);
    if (!cell || cell.dataset.value === "") return null;
    return Number(cell.dataset.value);
  }

  function sum(a, b) {
    if (a === null && b === null) return null;
    return (a || 0) + (b || 0);
  }

  function show(key, column, value, percent) {
    const cell = form.querySelector(`tr[data-key="${key}"] td[data-column="${column}"]`);
    if (!cell) return;
    cell.dataset.value = value === null ? "" : String(value);
    if (value === null) {
      cell.textContent = "—";
    } else if (percent) {
      cell.textContent = (Math.round(value * 10) / 10).toFixed(1).replace(".", ",");
    } else {
      cell.textContent = value.toLocaleString("ru-RU");
    }
  }

  function recompute() {
    for (let column = 0; column < 3; column++) {
      const total = sum(entered("working", column), entered("students", column));
      const members = sum(registered("working_members", column), registered("student_members", column));
      show("total", column, total, false);
      show("total_members", column, members, false);
      show("coverage", column, total ? (members * 100) / total : null, true);
    }
  }

  form.addEventListener("input", recompute);
  recompute();
})();
