// The card-request queue: a header box ticks every request on the page, and the count next to
// "approve the ticked" says how many are ticked (the button waits until at least one is).
(() => {
  const form = document.getElementById("bulk-approve");
  if (!form) return;
  const boxes = [...document.querySelectorAll('input[name="ids"][form="bulk-approve"]')];
  const all = document.querySelector("[data-bulk-all]");
  const count = form.querySelector("[data-bulk-count]");
  const approveTicked = form.querySelector("[data-bulk-selected]");

  const refresh = () => {
    const ticked = boxes.filter((box) => box.checked).length;
    count.textContent = ticked;
    approveTicked.disabled = ticked === 0;
    if (all) {
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
  };
  boxes.forEach((box) => box.addEventListener("change", refresh));
  if (all) {
    all.addEventListener("change", () => {
      boxes.forEach((box) => { box.checked = all.checked; });
      refresh();
    });
  }
  refresh();
})();
