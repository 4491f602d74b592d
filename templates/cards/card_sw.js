// The service worker of the member's card page (served by cards.offline.service_worker from under that page).
// It keeps the last card page the server gave this member, so that the card opens at a partner's till without
// a network, and forgets it as soon as the server answers with anything else. Nothing from any other page is kept.
"use strict";

const PAGE_URL = {{ page_url|safe }};
const ASSETS = {{ assets|safe }};
const CARD_HEADER = {{ header|safe }};
const OFFLINE_PAGE = {{ offline_page|safe }};
const PAGE_CACHE = "union-card-page";
const ASSETS_CACHE = "union-card-assets-{{ version }}";
// On a weak signal the saved card is shown after this long; the server's answer still updates it when it comes.
const NETWORK_TIMEOUT_MS = 5000;
const ASSET_PATHS = new Set(ASSETS.map((url) => new URL(url, self.location.origin).pathname));

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(ASSETS_CACHE);
    await cache.addAll(ASSETS);
    // The page that registered the worker loaded before it was there: fetch the card once more to save it.
    try {
      await keepOrForget(await fetch(PAGE_URL, { credentials: "same-origin", redirect: "manual" }));
    } catch (error) {
      // No network right now: the next visit saves it.
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("union-card-assets-") && name !== ASSETS_CACHE) {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate" && url.pathname === PAGE_URL) {
    event.respondWith(cardPage(event));
  } else if (ASSET_PATHS.has(url.pathname)) {
    event.respondWith(asset(event, url));
  }
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "forget-card") {
    event.waitUntil(caches.delete(PAGE_CACHE));
  }
});

// Keep the member's own card page; any other answer (the login page after a redirect, 403, 404) means this
// device must no longer show a card. A server error says nothing about the member and leaves the saved card.
async function keepOrForget(response) {
  const cache = await caches.open(PAGE_CACHE);
  if (response.ok && !response.redirected && response.headers.get(CARD_HEADER) === "1") {
    await cache.put(PAGE_URL, response);
    await tellPages({ type: "card-saved" });
  } else if (response.status < 500) {
    await cache.delete(PAGE_URL);
    await tellPages({ type: "card-forgotten" });
  }
}

async function tellPages(message) {
  for (const client of await self.clients.matchAll({ includeUncontrolled: true, type: "window" })) {
    client.postMessage(message);
  }
}

async function cardPage(event) {
  const saved = await caches.match(PAGE_URL, { cacheName: PAGE_CACHE, ignoreVary: true });
  const network = fetch(event.request).then(async (response) => {
    await keepOrForget(response.clone());
    return response;
  });
  event.waitUntil(network.catch(() => null));
  try {
    const response = await (saved ? withTimeout(network, NETWORK_TIMEOUT_MS) : network);
    return saved && response.status >= 500 ? await savedCopy(saved) : response;
  } catch (error) {
    if (saved) {
      return savedCopy(saved);
    }
    return new Response(OFFLINE_PAGE, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
}

// The saved page, marked so that it tells the member it is the copy from the last check (see card-app.css).
async function savedCopy(saved) {
  const html = (await saved.text()).replace('data-card-source="network"', 'data-card-source="offline"');
  const headers = new Headers(saved.headers);
  headers.delete("Content-Length");
  return new Response(html, { status: 200, headers });
}

function withTimeout(promise, milliseconds) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), milliseconds);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

// Styles, fonts and scripts: the saved copy at once, refreshed in the background for the next visit.
async function asset(event, url) {
  const cache = await caches.open(ASSETS_CACHE);
  const key = url.origin + url.pathname;  // the fonts are asked for with a ?version that the list does not have
  const saved = await cache.match(key, { ignoreVary: true });
  const network = fetch(event.request).then((response) => {
    if (response.ok) {
      event.waitUntil(cache.put(key, response.clone()));
    }
    return response;
  });
  if (saved) {
    event.waitUntil(network.catch(() => null));
    return saved;
  }
  return network;
}
