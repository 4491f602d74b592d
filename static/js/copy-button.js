// A button with data-copy-target="<input id>" copies that input's value (a partner's promo code) to the clipboard.
document.querySelectorAll("[data-copy-target]").forEach((button) => {
  button.addEventListener("click", async () => {
    const input = document.getElementById(button.dataset.copyTarget);
    if (!input) return;
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      input.select(); // no clipboard access (an insecure origin): leave it selected for a long press
      return;
    }
    const label = button.querySelector("span");
    const original = label.textContent;
    label.textContent = button.dataset.copiedText;
    setTimeout(() => { label.textContent = original; }, 2000);
  });
});
