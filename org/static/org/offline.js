// The page shell's side of the offline app: installs the service worker, shows whether
// the device is online and how many records wait to be sent, sends them (on load, when
// the connection returns, on a timer and through Background Sync), and wipes what the
// device keeps at logout and when the session ends. No inline script (CSP).
(() => {
  "use strict";

  const RETRY_SECONDS = 60;
  const device = window.sspDevice;
  if (!device) return;
  const { t } = window.sspStrings;

  let lastOutcome = { state: "idle" };
  let sending = null;

  function csrfToken() {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) return field.value;
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  async function wipe() {
    await device.wipe();
  }

  // --- The indicator in the page shell ----------------------------------------------
  async function refresh() {
    const status = document.getElementById("device-status");
    if (!status) return;
    const user = document.body.dataset.deviceUser;
    const records = await device.waiting(user);
    const waiting = records.filter((r) => r.status !== "refused").length;
    const refused = records.length - waiting;
    const online = navigator.onLine;
    const parts = [online ? t("shell.online") : t("shell.offline")];
    if (waiting) parts.push(t("shell.waiting", { n: waiting }));
    if (refused) parts.push(t("shell.refused", { n: refused }));
    if (online && waiting && ["login", "no-session"].includes(lastOutcome.state)) parts.push(t("shell.log_in_again"));
    if (online && waiting && lastOutcome.state === "forbidden") parts.push(t("shell.reload"));
    // Online with nothing waiting is the usual case: a dot, so the menu keeps its one
    // line; the words are still there for a screen reader and on hover.
    const quiet = online && parts.length === 1;
    status.textContent = parts.join(" · ");
    status.title = parts.join(" · ");
    status.classList.toggle("device-status-quiet", quiet);
    status.dataset.state = online ? "online" : "offline";
    status.dataset.waiting = String(waiting);
    status.dataset.refused = String(refused);
    status.hidden = false;
  }

  // --- Sending --------------------------------------------------------------------
  async function sendNow() {
    if (!navigator.onLine) return refresh();
    if (!sending) {
      sending = device
        .send()
        .then(async (outcome) => {
          lastOutcome = outcome;
          if (outcome.state === "login") await wipe(); // the session has ended
        })
        .finally(() => {
          sending = null;
        });
    }
    await sending;
    await refresh();
  }

  /** After a record was queued: send at once if online, else when the browser can. */
  async function sendSoon() {
    await refresh();
    const registration = "serviceWorker" in navigator && (await navigator.serviceWorker.getRegistration());
    if (registration && registration.sync) {
      try {
        await registration.sync.register("ssp-outbox");
      } catch (error) {
        // Background Sync refused (no permission): the timer and the online event remain.
      }
    }
    if (navigator.onLine) await sendNow();
  }

  // --- The service worker -----------------------------------------------------------
  function askWorker(worker, message) {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => resolve(event.data);
      worker.postMessage(message, [channel.port2]);
    });
  }

  async function installWorker() {
    if (!("serviceWorker" in navigator)) return;
    try {
      await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    } catch (error) {
      return; // not a secure context, or the worker failed: the app works online as before
    }
    const registration = await navigator.serviceWorker.ready;
    if (!navigator.onLine || !registration.active) return;
    // On a first visit this page and what it loaded came before the worker could see
    // them; the menu's offline pages are kept too, so they open later without a visit.
    const urls = navigator.serviceWorker.controller ? [] : [location.href];
    document.querySelectorAll("meta[name=ssp-offline-page]").forEach((m) => urls.push(m.content));
    document.querySelectorAll("script[src]").forEach((s) => urls.push(s.src));
    document.querySelectorAll("link[rel=stylesheet], link[rel=icon], link[rel=apple-touch-icon]").forEach((l) => urls.push(l.href));
    const answer = await askWorker(registration.active, { type: "cache-urls", urls });
    const status = document.getElementById("device-status");
    if (status && answer && answer.ok) status.dataset.offlineReady = "true";
  }

  async function checkSessionEnd() {
    const ends = await device.cacheGet("session_ends_at");
    if (ends && Date.parse(ends) <= Date.now()) await wipe();
  }

  /** The words of this page's language, for the service worker's own page and its
   * messages (it has no page to read them from). Not personal: kept again after a wipe. */
  async function keepWords() {
    await device.cachePut("strings", { language: window.sspStrings.lang(), words: window.sspStrings.all() });
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const user = document.body.dataset.deviceUser;
    if (user === undefined) return;
    if (!user) {
      // The login page: logged out, or the session ended. Nothing of it stays behind.
      await wipe();
      await keepWords();
      return;
    }
    const previous = await device.cacheGet("user");
    if (previous && String(previous) !== String(user)) await wipe(); // someone else's cache
    await keepWords();
    await device.cachePut("user", user);
    await device.cachePut("csrf", csrfToken());
    await checkSessionEnd();

    device.onChange(() => refresh());
    window.addEventListener("online", () => sendNow());
    window.addEventListener("offline", () => refresh());
    setInterval(async () => {
      await checkSessionEnd();
      if ((await device.waiting(user)).some((r) => r.status === "waiting")) await sendNow();
    }, RETRY_SECONDS * 1000);

    // Logging out wipes the device's cache first; waiting records stay for the next login.
    document.querySelectorAll("form.logout-form").forEach((form) => {
      form.addEventListener("submit", async (event) => {
        if (form.dataset.wiped) return;
        event.preventDefault();
        const left = (await device.waiting(user)).length;
        if (left && !window.confirm(t("shell.logout_confirm", { n: left }))) return;
        await wipe();
        form.dataset.wiped = "true";
        form.submit();
      });
    });

    await refresh();
    await sendNow();
    installWorker();
  });

  window.sspShell = { sendSoon, sendNow, refresh, wipe };
})();
