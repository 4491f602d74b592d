// Removes the member's card saved for offline use (templates/cards/card_sw.js) from this device: run on the login
// page, which a signed-out visitor reaches, and before the logout form of the card page is sent (which also works
// where the logout answer's Clear-Site-Data header is not honoured, or when there is no network to send it).
(function () {
  "use strict";

  async function forgetSavedCard() {
    if ("caches" in window) {
      for (const name of await caches.keys()) {
        if (name.startsWith("union-card-")) {
          await caches.delete(name);
        }
      }
    }
    if ("serviceWorker" in navigator) {
      for (const registration of await navigator.serviceWorker.getRegistrations()) {
        await registration.unregister();
      }
    }
  }

  window.forgetSavedCard = forgetSavedCard;
  if (document.currentScript && document.currentScript.hasAttribute("data-forget-now")) {
    forgetSavedCard().catch(() => {});
  }
})();
