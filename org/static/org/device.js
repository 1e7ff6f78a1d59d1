// What the device keeps, for the pages and the service worker alike (both load this
// file, after vendor/idb): the outbox of records waiting to be sent, and a small cache
// (the catalog, the codes seen at the person's sites, the session's CSRF token).
// The cache is wiped at logout and when the session ends; the outbox never is: a
// record leaves it only when the server has it, or when staff discard it on purpose.
(function (scope) {
  "use strict";

  const DB_NAME = "ssp-device";
  const OUTBOX = "outbox"; // key: client_uuid
  const CACHE = "cache"; // key: a name ("catalog", "codes", "csrf", "user", "sent", …)
  const PAGES_CACHE = "ssp-pages"; // Cache Storage: the pages kept for offline use
  const SYNC_URL = "/api/v1/sync/";
  const VISITS_URL = "/api/v1/visits/";
  const BATCH = 500; // the most records the server takes in one request
  const SENT_KEPT = 50; // how many "sent" answers are remembered for the pages to show

  let opened = null;
  function db() {
    opened =
      opened ||
      scope.idb.openDB(DB_NAME, 1, {
        upgrade(database) {
          database.createObjectStore(OUTBOX, { keyPath: "client_uuid" });
          database.createObjectStore(CACHE);
        },
      });
    return opened;
  }

  // --- Change notices: other tabs and the service worker learn that the outbox moved.
  const local = new EventTarget();
  const channel = "BroadcastChannel" in scope ? new BroadcastChannel("ssp-device") : null;
  if (channel) channel.onmessage = () => local.dispatchEvent(new Event("change"));
  function changed() {
    local.dispatchEvent(new Event("change"));
    if (channel) channel.postMessage({ type: "change" });
  }
  function onChange(listener) {
    local.addEventListener("change", listener);
  }

  // --- The outbox -----------------------------------------------------------------
  async function put(record) {
    await (await db()).put(OUTBOX, record);
    changed();
    return record;
  }
  async function get(clientUuid) {
    return (await db()).get(OUTBOX, clientUuid);
  }
  async function all() {
    const records = await (await db()).getAll(OUTBOX);
    return records.sort((a, b) => (a.queued_at < b.queued_at ? -1 : 1));
  }
  async function discard(clientUuid) {
    await (await db()).delete(OUTBOX, clientUuid);
    changed();
  }
  async function waiting(user) {
    return (await all()).filter((r) => !user || String(r.user) === String(user));
  }

  // --- The cache ------------------------------------------------------------------
  async function cacheGet(key) {
    return (await db()).get(CACHE, key);
  }
  async function cachePut(key, value) {
    await (await db()).put(CACHE, value, key);
  }
  /** Logout or the end of the session: forget the catalog, the codes and the kept pages.
   * The outbox stays (its records are sent when the same person logs in again). */
  async function wipe() {
    await (await db()).clear(CACHE);
    if (scope.caches) await scope.caches.delete(PAGES_CACHE);
    changed();
  }

  // --- Sending --------------------------------------------------------------------
  function flatErrors(errors) {
    if (!errors) return "";
    return Object.entries(errors)
      .map(([field, messages]) => {
        const text = [].concat(messages).map((m) => (typeof m === "string" ? m : JSON.stringify(m)));
        return field === "non_field_errors" || field === "detail" ? text.join(" ") : `${field}: ${text.join(" ")}`;
      })
      .join(" · ");
  }

  async function remember(record, result) {
    const sent = (await cacheGet("sent")) || [];
    sent.unshift({
      client_uuid: record.client_uuid,
      site: record.site,
      status: result.status,
      notice: result.notice || null,
      summary: record.summary || null,
      at: new Date().toISOString(),
    });
    await cachePut("sent", sent.slice(0, SENT_KEPT));
  }

  async function apply(record, result) {
    if (result.status === "created" || result.status === "duplicate") {
      await remember(record, result);
      await (await db()).delete(OUTBOX, record.client_uuid);
    } else {
      // Refused: stays, marked with the server's words, until staff fix or discard it.
      record.status = "refused";
      record.errors = result.errors || null;
      const words = scope.sspStrings;
      const fallback = "The server refused this record.";
      record.message = flatErrors(result.errors) || result.notice || (words ? words.t("device.refused", null, fallback) : fallback);
      await (await db()).put(OUTBOX, record);
    }
  }

  function request(url, csrf, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf || "" },
      body: JSON.stringify(payload),
    });
  }

  // A server without the batch endpoint (404): the same records one by one.
  async function sendOneByOne(batch, csrf) {
    for (const record of batch) {
      const response = await request(VISITS_URL, csrf, record.body);
      if (response.status === 401) return { state: "login" };
      if (response.status >= 500) return { state: "server", status: response.status };
      const answer = await response.json().catch(() => ({}));
      if (response.status === 201 || response.status === 200) {
        await apply(record, { status: response.status === 201 ? "created" : "duplicate" });
      } else {
        const errors = answer.errors && Object.keys(answer.errors).length ? answer.errors : { detail: [answer.detail || `HTTP ${response.status}`] };
        await apply(record, { status: "refused", errors });
      }
    }
    return { state: "sent" };
  }

  async function sendBatch(batch, csrf) {
    const response = await request(SYNC_URL, csrf, {
      records: batch.map((r) => ({ kind: r.kind, client_uuid: r.client_uuid, body: r.body })),
    });
    if (response.status === 404) return sendOneByOne(batch, csrf);
    if (response.status === 401) return { state: "login" };
    if (response.status === 403) {
      const answer = await response.json().catch(() => ({}));
      return { state: "forbidden", detail: answer.detail || "" };
    }
    if (!response.ok) return { state: "server", status: response.status };
    const { results } = await response.json();
    const byUuid = new Map(batch.map((r) => [r.client_uuid, r]));
    for (const result of results || []) {
      const record = byUuid.get(result.client_uuid);
      if (record) await apply(record, result);
    }
    return { state: "sent" };
  }

  async function sendNow() {
    const user = await cacheGet("user");
    if (!user) return { state: "no-session" };
    const csrf = await cacheGet("csrf");
    const ready = (await waiting(user)).filter((r) => r.status === "waiting" && r.body);
    let outcome = { state: "idle" };
    try {
      for (let start = 0; start < ready.length; start += BATCH) {
        outcome = await sendBatch(ready.slice(start, start + BATCH), csrf);
        if (outcome.state !== "sent") break;
      }
    } catch (error) {
      outcome = { state: "offline" }; // no connection: the records wait for the next try
    }
    changed();
    return outcome;
  }

  /** Send what waits, once at a time per device (pages, tabs and the worker share a lock). */
  function send() {
    const locks = scope.navigator && scope.navigator.locks;
    return locks ? locks.request("ssp-outbox-send", sendNow) : sendNow();
  }

  scope.sspDevice = {
    PAGES_CACHE,
    put,
    get,
    all,
    waiting,
    discard,
    cacheGet,
    cachePut,
    wipe,
    send,
    onChange,
    flatErrors,
  };
})(self);
