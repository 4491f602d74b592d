// Behaviour that pages declare in their markup, kept out of inline scripts and on…= attributes, which the
// Content-Security-Policy refuses: print buttons, a confirmation before a submit, a select that submits its form, and
// progress bars drawn to their value (data-progress, in per cent).
(function () {
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-print]")) {
      window.print();
      return;
    }
    const confirming = event.target.closest("[data-confirm]");
    if (confirming && !window.confirm(confirming.dataset.confirm)) {
      event.preventDefault();
    }
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches("select[data-submit-on-change]")) {
      event.target.form.submit();
    }
  });
  for (const bar of document.querySelectorAll("[data-progress]")) {
    const value = parseFloat(String(bar.dataset.progress).replace(",", "."));
    bar.style.width = (Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : 0) + "%";
  }
})();
