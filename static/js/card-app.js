// The member's card page as an app: registers the worker that saves the card for use without a network
// (templates/cards/card_sw.js), says when the card is saved, offers installation, and forgets the card on logout.
(function () {
  "use strict";
  const script = document.currentScript;
  const saved = document.querySelector("[data-card-saved]");
  const installButton = document.querySelector("[data-card-install]");

  function showSaved(isSaved) {
    if (saved) {
      saved.hidden = !isSaved;
    }
  }

  // Logging out removes the saved card before the form goes, so that it is gone even without a network.
  const logoutUrl = script.dataset.logout;
  for (const form of document.querySelectorAll("form")) {
    if (new URL(form.action, location.href).pathname === logoutUrl) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const forget = window.forgetSavedCard ? window.forgetSavedCard() : Promise.resolve();
        forget.catch(() => {}).finally(() => form.submit());
      });
    }
  }

  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    if (!installButton) {
      return;
    }
    installButton.hidden = false;
    installButton.addEventListener("click", () => {
      installButton.hidden = true;
      event.prompt();
    }, { once: true });
  });

  if (!("serviceWorker" in navigator) || !window.isSecureContext) {
    return;
  }
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "card-saved") {
      showSaved(true);
    } else if (event.data && event.data.type === "card-forgotten") {
      showSaved(false);
    }
  });
  navigator.serviceWorker.register(script.dataset.worker, { scope: script.dataset.scope })
    .then(() => navigator.serviceWorker.ready)
    .then(() => caches.match(script.dataset.scope, { cacheName: "union-card-page", ignoreVary: true }))
    .then((response) => { if (response) { showSaved(true); } })
    .catch(() => {});
})();
