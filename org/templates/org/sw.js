{% load static %}// The offline app's service worker, served at /sw.js so that its scope is the whole app.
// It keeps the app shell and the pages marked available offline (the X-SSP-Offline
// header), shows the last copy of such a page when there is no connection, keeps a
// visit form whose POST failed in the device outbox instead of losing it, and sends
// the outbox when the connection comes back (Background Sync, where the browser has it).
// Workbox is loaded from this app's own static files: never from a CDN.
"use strict";

importScripts("{% static 'vendor/workbox-7.4.1/workbox-sw.js' %}");
const WORKBOX_MODULES = {
  "workbox-core": "{% static 'vendor/workbox-7.4.1/workbox-core.prod.js' %}",
  "workbox-routing": "{% static 'vendor/workbox-7.4.1/workbox-routing.prod.js' %}",
  "workbox-strategies": "{% static 'vendor/workbox-7.4.1/workbox-strategies.prod.js' %}",
  "workbox-expiration": "{% static 'vendor/workbox-7.4.1/workbox-expiration.prod.js' %}",
  "workbox-cacheable-response": "{% static 'vendor/workbox-7.4.1/workbox-cacheable-response.prod.js' %}",
};
workbox.setConfig({ debug: false, modulePathCb: (name) => WORKBOX_MODULES[name] });
importScripts(
  "{% static 'org/strings.js' %}",
  "{% static 'vendor/idb-8.0.3.umd.js' %}",
  "{% static 'org/device.js' %}",
);

const STATIC_PREFIX = "{% get_static_prefix %}";
const OFFLINE_HEADER = "{{ offline_header }}";
const OFFLINE_USER_HEADER = "{{ offline_user_header }}";
const STATIC_CACHE = "ssp-static";
const PAGES_CACHE = self.sspDevice.PAGES_CACHE;
const PAGE_FRESH_MS = 5 * 60 * 1000; // a menu page kept this recently is not fetched again
const NETWORK_WAIT_MS = 6000; // a page slower than this comes from the device (poor signal)
const APP_SHELL = [
  "{% static 'org/app.css' %}",
  "{% static 'org/app.js' %}",
  "{% static 'org/strings.js' %}",
  "{% static 'org/offline.js' %}",
  "{% static 'org/device.js' %}",
  "{% static 'vendor/htmx-2.0.11.min.js' %}",
  "{% static 'vendor/idb-8.0.3.umd.js' %}",
  "{% static 'org/icons/icon-192.png' %}",
];

// Every module is imported now: a worker may not import scripts after it is installed.
const { registerRoute } = workbox.routing;
const { StaleWhileRevalidate } = workbox.strategies;
const { ExpirationPlugin } = workbox.expiration;
const { CacheableResponsePlugin } = workbox.cacheableResponse;
workbox.core.clientsClaim();

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(STATIC_CACHE).then((cache) => cache.addAll(APP_SHELL)));
  self.skipWaiting();
});

// --- Pages ------------------------------------------------------------------------

/** One kept copy per page and site: /intake/?site=3&saved=… is kept as /intake/?site=3. */
function pageKey(address) {
  const url = new URL(address);
  const site = url.searchParams.get("site");
  url.search = site ? `?site=${encodeURIComponent(site)}` : "";
  url.hash = "";
  return url.href;
}

/** The person this device is used by now: set by each page they open, wiped by the login
 * page and at logout. A kept page is shown and kept only for that person. */
async function deviceUser() {
  const user = await self.sspDevice.cacheGet("user");
  return user ? String(user) : null;
}

async function keptPage(key) {
  const cache = await caches.open(PAGES_CACHE);
  const hit = (await cache.match(key)) || (await cache.match(key, { ignoreSearch: true }));
  const user = await deviceUser();
  // Never someone else's copy: straight after a login, or after a session ended under
  // a page still fetching in the background, the kept copy may be the previous person's.
  return hit && user && hit.headers.get(OFFLINE_USER_HEADER) === user ? hit : undefined;
}

// The worker's words: this script's address is fixed (/sw.js, one copy for every
// language), so it is not rendered per language. Each page leaves its words and their
// language in the device's cache (offline.js); the worker takes the last page's, which
// is the language of the person using the device now (English before any page ran).
async function useWords() {
  const kept = await self.sspDevice.cacheGet("strings").catch(() => null);
  if (kept && kept.words) self.sspStrings.use(kept.words, kept.language);
}

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

async function notKeptPage() {
  await useWords();
  const { t, lang } = self.sspStrings;
  const say = (key, english) => escapeHtml(t(key, null, english));
  const html =
    `<!doctype html><html lang="${escapeHtml(lang())}"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${say("offline.title", "Offline · SSP intake")}</title><h1>${say("offline.heading", "No connection")}</h1>` +
    `<p>${say("offline.not_kept", "This page was not kept on this device. The front desk, the street shift and the follow-ups work offline once they have been opened with a connection.")}</p>` +
    `<p><a href="/">${say("offline.home", "Home")}</a></p></html>`;
  return new Response(html, {
    status: 503,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": "default-src 'none'; style-src 'self'",
    },
  });
}

async function keep(key, response) {
  if (response.ok && response.headers.get(OFFLINE_HEADER) === "page") {
    const user = await deviceUser();
    if (user && response.headers.get(OFFLINE_USER_HEADER) === user) {
      await (await caches.open(PAGES_CACHE)).put(key, response.clone());
    }
  }
  return response;
}

async function pageFromNetworkOrDevice({ request }) {
  const key = pageKey(request.url);
  const fromNetwork = fetch(request).then((response) => keep(key, response));
  fromNetwork.catch(() => {}); // when the kept copy is shown, a late failure is no news
  const slow = new Promise((resolve) => setTimeout(resolve, NETWORK_WAIT_MS, "slow"));
  try {
    const first = await Promise.race([fromNetwork, slow]);
    if (first !== "slow") return first;
    return (await keptPage(key)) || (await fromNetwork);
  } catch (error) {
    return (await keptPage(key)) || (await notKeptPage());
  }
}
registerRoute(({ request }) => request.mode === "navigate", pageFromNetworkOrDevice, "GET");

// A visit form posted without a connection: kept in the outbox as typed (the page turns
// it into the API's body at its next load), then the page is shown again from the device.
async function formPostOrKeep({ request }) {
  const copy = request.clone();
  try {
    return await fetch(request);
  } catch (error) {
    // Only the forms of pages kept for offline use (the front desk, the street shift),
    // which carry a client UUID; any other form's failure is the browser's to show.
    if (!(await keptPage(pageKey(request.url)))) throw error;
    const form = await copy.formData().catch(() => null);
    const clientUuid = form && form.get("client_uuid");
    const user = await self.sspDevice.cacheGet("user");
    if (!clientUuid || !user) return await notKeptPage();
    const entries = [];
    for (const [name, value] of form.entries()) {
      // Never kept: the CSRF token, and the parts a code is built from (a mother's name).
      if (typeof value !== "string" || name === "csrfmiddlewaretoken" || name.startsWith("part_")) continue;
      entries.push([name, value]);
    }
    const existing = await self.sspDevice.get(clientUuid);
    if (!existing) {
      await self.sspDevice.put({
        client_uuid: clientUuid,
        kind: "visit",
        user,
        site: Number(form.get("site")) || null,
        form_url: new URL(request.url).pathname,
        entries,
        body: null,
        summary: null,
        status: "waiting",
        queued_at: new Date().toISOString(),
      });
    }
    return Response.redirect(pageKey(request.url), 303);
  }
}
registerRoute(({ request }) => request.mode === "navigate", formPostOrKeep, "POST");

// --- The app's static files: served from the device, refreshed in the background.
registerRoute(
  ({ url }) => url.origin === self.location.origin && url.pathname.startsWith(STATIC_PREFIX),
  new StaleWhileRevalidate({
    cacheName: STATIC_CACHE,
    plugins: [new CacheableResponsePlugin({ statuses: [200] }), new ExpirationPlugin({ maxEntries: 200 })],
  }),
);

// --- Messages from the pages ------------------------------------------------------

async function cacheUrls(urls) {
  const statics = await caches.open(STATIC_CACHE);
  for (const address of urls) {
    const url = new URL(address, self.location.origin);
    if (url.origin !== self.location.origin) continue;
    if (url.pathname.startsWith(STATIC_PREFIX)) {
      if (!(await statics.match(url.href))) await statics.add(url.href);
    } else {
      const key = pageKey(url.href);
      const kept = await (await caches.open(PAGES_CACHE)).match(key);
      const age = kept ? Date.now() - Date.parse(kept.headers.get("Date") || 0) : Infinity;
      if (age < PAGE_FRESH_MS) continue;
      // Redirects are not followed: a session that ended meanwhile would otherwise render
      // the login page here, and its new CSRF cookie would spoil the login form on screen.
      const response = await fetch(url.href, { credentials: "same-origin", redirect: "manual" });
      await keep(key, response); // (a redirect is not ok: nothing is kept)
    }
  }
}

self.addEventListener("message", (event) => {
  const message = event.data || {};
  const reply = (answer) => event.ports[0] && event.ports[0].postMessage(answer);
  if (message.type === "cache-urls") {
    event.waitUntil(
      cacheUrls(message.urls || []).then(
        () => reply({ ok: true }),
        (error) => reply({ ok: false, error: String(error) }),
      ),
    );
  } else if (message.type === "wipe") {
    event.waitUntil(self.sspDevice.wipe().then(() => reply({ ok: true })));
  }
});

// --- Background Sync: the browser wakes the worker when the connection is back.
self.addEventListener("sync", (event) => {
  if (event.tag === "ssp-outbox") {
    event.waitUntil(
      useWords().then(() => self.sspDevice.send()).then((outcome) => {
        // Still offline or the server could not answer: ask the browser to try again.
        if (outcome.state === "offline" || outcome.state === "server") throw new Error(outcome.state);
      }),
    );
  }
});
