// The front desk and the street shift without a connection: a save is kept in the
// device outbox (org/device.js) with its client UUID and the time it happened, shown at
// once among today's visits as "waiting to send", and sent when the connection returns.
// The code look-up then suggests codes from this device. One mapping, visitBody(), turns
// what the form posts into the body POST /api/v1/visits/ (and /api/v1/sync/) accepts.
(() => {
  "use strict";

  const device = window.sspDevice;
  const { t } = window.sspStrings;
  const CATALOG_URL = "/api/v1/device/catalog/";
  const CODES_URL = "/api/v1/device/codes/";
  const NUMBER_FIELDS = ["syringes_collected", "secondary_people", "overdose_reversals", "contacts"];
  const TEXT_FIELDS = ["collection_method", "naloxone_refill_reason", "notes", "age_band", "service_model"];
  const MAX_SUGGESTIONS = 8;
  const MAX_PREFIX = 10;

  const normalise = (text) =>
    String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toUpperCase().replace(/[^A-Z0-9]/g, "");

  // --- The one mapping: posted form fields → the API's visit body ------------------

  /** What the page posts ([name, value] pairs), minus what must never be kept: the CSRF
   * token and the parts a code is built from (a mother's first name is personal). */
  function keptEntries(form) {
    const entries = [];
    for (const [name, value] of new FormData(form).entries()) {
      if (typeof value !== "string" || name === "csrfmiddlewaretoken" || name.startsWith("part_")) continue;
      entries.push([name, value]);
    }
    return entries;
  }

  function catalogIndex(catalog) {
    const index = { kit: new Map(), item: new Map() };
    for (const kit of (catalog && catalog.kits) || []) index.kit.set(String(kit.id), kit);
    for (const item of (catalog && catalog.items) || []) index.item.set(String(item.id), item);
    return index;
  }

  /** The body of POST /api/v1/visits/ for what the form posted, or null while the
   * catalog (pk → code of each kit and item) is not on the device yet. `happenedAt` is
   * the moment of the save: the visit's time unless staff typed one. */
  function visitBody(entries, catalog, happenedAt) {
    const index = catalogIndex(catalog);
    const values = new Map();
    const lines = [];
    const quantities = [];
    const services = [];
    const extras = new Map(); // "referrals" → {type: [...], partner: [...]}
    for (const [name, value] of entries) {
      if (name === "line") lines.push(value);
      else if (name === "qty") quantities.push(value);
      else if (name.startsWith("service:")) {
        // A ticked toggle at the front desk ("1") or a count on the shift page.
        const count = Number(String(value).trim() || 0);
        if (count) services.push({ service: name.slice("service:".length), count });
      } else if (name.startsWith("extra:")) {
        // An upper app's rows (ssp/visit_extras.py): extra:<list>:<key>, one per row.
        const [, list, key] = name.split(":");
        if (!extras.has(list)) extras.set(list, {});
        const columns = extras.get(list);
        (columns[key] = columns[key] || []).push(value);
      } else values.set(name, value);
    }
    const text = (name) => (values.get(name) || "").trim();
    const body = { client_uuid: text("client_uuid"), site: Number(text("site")) };
    if (text("location")) body.location = Number(text("location"));
    if (values.has("code") || values.has("anonymous")) {
      body.code = normalise(text("code"));
      body.anonymous = values.has("anonymous");
    } else {
      body.anonymous = true; // the street shift: its contacts have no code
    }
    for (const name of NUMBER_FIELDS) if (text(name) !== "") body[name] = Number(text(name));
    for (const name of TEXT_FIELDS) if (text(name) !== "") body[name] = text(name);
    if (values.has("confirm_large_quantity")) body.confirm_large_quantity = true;
    // A typed time is the program's local time, as the page's form reads it.
    body.occurred_at = text("occurred_at") ? new Date(text("occurred_at")).toISOString() : happenedAt;
    body.supplies = [];
    for (let i = 0; i < lines.length; i += 1) {
      const [kind, id] = lines[i].split(":");
      const thing = index[kind] && index[kind].get(id);
      if (!thing) return null;
      body.supplies.push({ [kind]: thing.code, quantity: Number(String(quantities[i] || "").trim()) });
    }
    if (services.length) body.services = services;
    for (const [list, columns] of extras) {
      // Rows whose first column is empty are the blank row left on the form.
      const keys = Object.keys(columns);
      const rows = [];
      for (let i = 0; i < columns[keys[0]].length; i += 1) {
        if (!String(columns[keys[0]][i] || "").trim()) continue;
        const row = {};
        for (const key of keys) {
          const cell = String((columns[key] || [])[i] || "").trim();
          // Ids are numbers in the API; codes stay text.
          row[key] = cell === "" ? null : /^[0-9]+$/.test(cell) ? Number(cell) : cell;
        }
        rows.push(row);
      }
      if (rows.length) body[list] = rows;
    }
    return body;
  }

  /** What the waiting row shows, read from the cart as staff saw it. */
  function summaryOf(form, entries) {
    const values = new Map(entries);
    const lines = Array.from(form.querySelectorAll("#cart tr")).map((row) => ({
      name: (row.cells[0] && row.cells[0].firstChild ? row.cells[0].firstChild.textContent : "").trim(),
      quantity: (row.querySelector("input.qty") || {}).value || "",
    }));
    return {
      code: normalise(values.get("code")),
      contacts: Number(values.get("contacts") || 1),
      collected: Number(values.get("syringes_collected") || 0),
      lines,
    };
  }

  function summaryFromCatalog(entries, catalog) {
    const index = catalogIndex(catalog);
    const values = new Map(entries);
    const keys = entries.filter(([n]) => n === "line").map(([, v]) => v);
    const quantities = entries.filter(([n]) => n === "qty").map(([, v]) => v);
    return {
      code: normalise(values.get("code")),
      contacts: Number(values.get("contacts") || 1),
      collected: Number(values.get("syringes_collected") || 0),
      lines: keys.map((key, i) => {
        const [kind, id] = key.split(":");
        const thing = index[kind] && index[kind].get(id);
        return { name: thing ? thing.name : key, quantity: quantities[i] || "" };
      }),
    };
  }

  function newUuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // --- Saving without a connection ---------------------------------------------------

  /** What the page's form would refuse at once; the server checks the rest on sync. */
  function localRefusal(form, entries) {
    const values = new Map(entries);
    if (form.id === "intake-form") {
      const code = normalise(values.get("code"));
      const parts = Array.from(form.querySelectorAll(".parts input")).some((input) => input.value.trim());
      if (!code && parts) return t("outbox.parts_need_connection");
      if (!code && !values.has("anonymous")) return t("outbox.code_or_anonymous");
      if (code && values.has("anonymous")) return t("outbox.not_both");
    } else if (!(Number(values.get("contacts")) >= 1)) {
      return t("outbox.at_least_one");
    }
    return null;
  }

  function say(form, text, isError) {
    let notice = document.getElementById("device-notice");
    if (!notice) {
      notice = document.createElement("p");
      notice.id = "device-notice";
      notice.setAttribute("role", isError ? "alert" : "status");
      form.before(notice);
    }
    notice.className = `device-notice ${isError ? "warning-note" : "msg msg-success"}`;
    notice.textContent = text;
  }

  function resetForm(form) {
    form.reset();
    form.querySelector("[name=client_uuid]").value = newUuid();
    const cart = form.querySelector("#cart");
    if (cart) while (cart.rows.length) cart.deleteRow(0);
    const empty = form.querySelector(".cart-empty");
    if (empty) empty.classList.remove("hidden");
    const code = form.querySelector("#code");
    if (code) {
      code.value = "";
      code.dispatchEvent(new Event("input", { bubbles: true })); // intake.js forgets the last look-up
      code.focus();
    }
    const panel = document.getElementById("participant-panel");
    if (panel) panel.innerHTML = "";
  }

  async function keep(form) {
    const entries = keptEntries(form);
    const refusal = localRefusal(form, entries);
    if (refusal) {
      say(form, refusal, true);
      return;
    }
    const happenedAt = new Date().toISOString();
    const catalog = await device.cacheGet("catalog");
    const record = {
      client_uuid: new Map(entries).get("client_uuid"),
      kind: "visit",
      user: document.body.dataset.deviceUser,
      site: Number(new Map(entries).get("site")) || null,
      form_url: location.pathname,
      entries,
      body: visitBody(entries, catalog, happenedAt),
      summary: summaryOf(form, entries),
      status: "waiting",
      queued_at: happenedAt,
    };
    await device.put(record);
    const kept = form.id === "shift-form" ? "outbox.shift_kept" : "outbox.visit_kept";
    say(form, t(kept, { time: clock(happenedAt) }), false);
    resetForm(form);
    await render();
    if (window.sspShell) window.sspShell.sendSoon();
  }

  function interceptSaves() {
    // Capture phase: runs before intake.js (which would disable Save) and app.js.
    document.addEventListener(
      "submit",
      (event) => {
        const form = event.target;
        if (!form.matches("#intake-form, #shift-form") || navigator.onLine) return;
        event.preventDefault();
        event.stopPropagation();
        keep(form);
      },
      true,
    );
  }

  // --- Showing what the device keeps -------------------------------------------------

  // The time alone today; the date too on any other day (a backdated record must say
  // which day it went to; the server's rule is org/time.py moment_label).
  function clock(iso) {
    const when = new Date(iso);
    const time = `${String(when.getHours()).padStart(2, "0")}:${String(when.getMinutes()).padStart(2, "0")}`;
    if (when.toDateString() === new Date().toDateString()) return time;
    // English as the server writes it ("Tue 1 Dec 2026"); other languages their own way.
    const language = window.sspStrings.lang();
    const locale = language === "en" ? "en-GB" : language;
    const day = when.toLocaleDateString(locale, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
    return `${day.replace(",", "")}, ${time}`;
  }

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function describeWho(summary) {
    if (!summary) return "";
    if (summary.contacts > 1) return t("outbox.shift_contacts", { n: summary.contacts });
    return summary.code || t("outbox.anonymous");
  }

  function describeLines(summary) {
    const lines = (summary && summary.lines) || [];
    return lines.length ? lines.map((ln) => `${ln.quantity} × ${ln.name}`).join(", ") : "—";
  }

  function recordRow(tbody, record, columns) {
    const row = tbody.insertRow(0);
    row.dataset.clientUuid = record.client_uuid;
    row.className = record.status === "refused" ? "device-refused" : record.sent ? "device-sent" : "device-waiting";
    const happened = (record.body && record.body.occurred_at) || record.queued_at || record.at;
    cell(row, clock(happened));
    cell(row, describeWho(record.summary));
    cell(row, describeLines(record.summary));
    if (columns === "today") {
      cell(row, String((record.summary && record.summary.collected) || 0), "num");
      cell(row, t("outbox.this_device"));
    }
    const actions = row.insertCell();
    const status = document.createElement("span");
    if (record.sent) {
      status.className = "status status-ok";
      status.textContent = record.notice ? t("outbox.sent_notice", { notice: record.notice }) : t("outbox.sent");
      actions.append(status);
      return;
    }
    status.className = record.status === "refused" ? "status status-bad" : "status status-warn";
    status.textContent = record.status === "refused" ? t("outbox.refused") : t("outbox.waiting");
    actions.append(status);
    if (record.status === "refused") {
      const message = document.createElement("p");
      message.className = "small refused-message";
      message.textContent = record.message || "";
      actions.append(message);
      const fix = document.createElement("button");
      fix.type = "button";
      fix.className = "device-fix";
      fix.textContent = t("outbox.fix");
      fix.dataset.clientUuid = record.client_uuid;
      actions.append(fix, " ");
    }
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "device-discard";
    discard.textContent = t("outbox.discard");
    discard.dataset.clientUuid = record.client_uuid;
    discard.setAttribute("aria-label", t("outbox.discard_label", { time: clock(happened) }));
    actions.append(discard);
  }

  function outboxSection(form) {
    let section = document.getElementById("device-outbox");
    if (!section) {
      section = document.createElement("section");
      section.id = "device-outbox";
      section.className = "device-outbox";
      section.setAttribute("aria-labelledby", "device-outbox-heading");
      section.innerHTML =
        '<h2 id="device-outbox-heading"></h2><div class="table-wrap"><table class="table">' +
        '<thead><tr><th scope="col"></th><th scope="col"></th><th scope="col"></th><th scope="col"></th></tr></thead>' +
        "<tbody></tbody></table></div>";
      // The words go in as text, never as markup.
      section.querySelector("h2").textContent = t("outbox.heading");
      const headings = ["outbox.time", "outbox.who", "outbox.supplies", "outbox.state"];
      section.querySelectorAll("th").forEach((th, i) => (th.textContent = t(headings[i])));
      form.after(section);
    }
    return section;
  }

  async function render() {
    const user = document.body.dataset.deviceUser;
    const records = await device.waiting(user);
    const sent = ((await device.cacheGet("sent")) || []).map((s) => ({ ...s, sent: true }));
    const today = document.querySelector("#today tbody");
    if (today) {
      const site = Number((document.querySelector("#intake-form [name=site]") || {}).value);
      today.querySelectorAll("tr[data-client-uuid]").forEach((row) => row.remove());
      const onServer = new Set(Array.from(today.querySelectorAll("tr[data-visit]"), (row) => row.dataset.visit));
      const shown = [...sent.filter((s) => !onServer.has(s.client_uuid)).reverse(), ...records].filter(
        (r) => r.site === site,
      );
      for (const record of shown) recordRow(today, record, "today");
      const empty = today.querySelector("td[colspan]");
      if (empty) empty.closest("tr").hidden = today.rows.length > 1;
    }
    const shift = document.getElementById("shift-form");
    if (shift) {
      const body = outboxSection(shift).querySelector("tbody");
      while (body.rows.length) body.deleteRow(0);
      for (const record of records) recordRow(body, record, "outbox");
      document.getElementById("device-outbox").hidden = records.length === 0;
    }
  }

  // --- Fix or discard a refused record ----------------------------------------------

  async function loadIntoForm(form, record) {
    const catalog = await device.cacheGet("catalog");
    const index = catalogIndex(catalog);
    const values = new Map(record.entries || []);
    for (const element of form.elements) {
      if (!element.name || element.name === "csrfmiddlewaretoken" || element.closest("#cart")) continue;
      if (element.type === "checkbox") element.checked = values.has(element.name);
      else if (values.has(element.name)) element.value = values.get(element.name);
      // A folded-away field with a value (the time, a note) is shown: it may be the fault.
      const folded = element.closest("details");
      if (folded && values.get(element.name) && element.type !== "hidden") folded.open = true;
    }
    const cart = form.querySelector("#cart");
    if (cart) {
      while (cart.rows.length) cart.deleteRow(0);
      const keys = (record.entries || []).filter(([n]) => n === "line").map(([, v]) => v);
      const quantities = (record.entries || []).filter(([n]) => n === "qty").map(([, v]) => v);
      keys.forEach((key, i) => {
        const [kind, id] = key.split(":");
        const thing = index[kind] && index[kind].get(id);
        const name = thing ? thing.name : key;
        const row = cart.insertRow();
        row.dataset.key = key;
        const nameCell = row.insertCell();
        nameCell.textContent = `${name} `;
        const hidden = Object.assign(document.createElement("input"), { type: "hidden", name: "line", value: key });
        nameCell.append(hidden);
        const qty = Object.assign(document.createElement("input"), { type: "number", name: "qty", min: "1", className: "qty" });
        qty.value = quantities[i] || "1";
        qty.setAttribute("aria-label", t("intake.quantity_of", { name }));
        row.insertCell().append(qty);
        const remove = Object.assign(document.createElement("button"), { type: "button", className: "remove-line", textContent: "×" });
        remove.setAttribute("aria-label", t("intake.remove", { name }));
        row.insertCell().append(remove);
      });
      const empty = form.querySelector(".cart-empty");
      if (empty) empty.classList.toggle("hidden", cart.rows.length > 0);
    }
    say(form, t("outbox.fix_then_save", { message: record.message || "" }), true);
    (form.querySelector("#code") || form.querySelector("input:not([type=hidden])")).focus();
  }

  function wireActions(form) {
    document.addEventListener("click", async (event) => {
      const discard = event.target.closest(".device-discard");
      if (discard) {
        if (!window.confirm(t("outbox.discard_confirm"))) return;
        await device.discard(discard.dataset.clientUuid);
        await render();
        return;
      }
      const fix = event.target.closest(".device-fix");
      if (fix) {
        const record = await device.get(fix.dataset.clientUuid);
        // The record keeps its client UUID: saved again, it is the same visit, not a second.
        if (record) await loadIntoForm(form, record);
      }
    });
  }

  // --- The device's copies, refreshed when online ----------------------------------

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }

  async function refreshCopies(form) {
    if (!navigator.onLine) return;
    try {
      const catalog = await getJson(CATALOG_URL);
      await device.cachePut("catalog", catalog);
      await device.cachePut("session_ends_at", catalog.session_ends_at);
      const codes = await getJson(CODES_URL);
      await device.cachePut("codes", { codes: codes.codes, fetched_at: new Date().toISOString() });
      form.dataset.deviceCopies = "ready";
    } catch (error) {
      form.dataset.deviceCopies = "failed"; // the last copies stay; tried again next load
    }
  }

  /** Records the service worker kept from a failed POST become API bodies here, and a
   * record the server already lists (it reached the server after all) leaves the outbox. */
  async function settle() {
    const catalog = await device.cacheGet("catalog");
    const onServer = new Set(Array.from(document.querySelectorAll("tr[data-visit]"), (row) => row.dataset.visit));
    for (const record of await device.waiting(document.body.dataset.deviceUser)) {
      if (onServer.has(record.client_uuid)) {
        await device.discard(record.client_uuid);
      } else if (!record.body && catalog) {
        record.body = visitBody(record.entries || [], catalog, record.queued_at);
        record.summary = record.summary || summaryFromCatalog(record.entries || [], catalog);
        if (record.body) await device.put(record);
      }
    }
  }

  // --- Offline code look-up ----------------------------------------------------------

  // The labels are the server's (ssp.codes.near_difference): the real difference.
  const kind = (char) => (/\d/.test(char) ? "digit" : "letter");
  const REASONS = {
    letter: { different: "outbox.letter_different", missing: "outbox.letter_missing", extra: "outbox.letter_extra" },
    digit: { different: "outbox.digit_different", missing: "outbox.digit_missing", extra: "outbox.digit_extra" },
  };

  function oneEditApart(a, b) {
    if (a === b) return null;
    if (a.length === b.length) {
      const diffs = [];
      for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) diffs.push(i);
      if (diffs.length === 1) return t(REASONS[kind(b[diffs[0]])].different);
      if (diffs.length === 2 && diffs[1] === diffs[0] + 1 && a[diffs[0]] === b[diffs[1]] && a[diffs[1]] === b[diffs[0]]) {
        return /\d/.test(a[diffs[0]] + a[diffs[1]]) ? t("outbox.digits_swapped") : t("outbox.letters_swapped");
      }
      return null;
    }
    const [shorter, longer] = a.length < b.length ? [a, b] : [b, a];
    if (longer.length - shorter.length !== 1) return null;
    for (let i = 0; i < longer.length; i += 1) {
      if (longer.slice(0, i) + longer.slice(i + 1) === shorter) {
        return t(REASONS[kind(longer[i])][a.length < b.length ? "missing" : "extra"]);
      }
    }
    return null;
  }

  function yearApart(a, b) {
    // The same code but for a four-digit run (the birth year) one apart: 1993 vs 1994.
    if (a.length !== b.length) return false;
    const runA = /\d{4}/.exec(a);
    const runB = /\d{4}/.exec(b);
    if (!runA || !runB || runA.index !== runB.index) return false;
    const i = runA.index;
    return a.slice(0, i) === b.slice(0, i) && a.slice(i + 4) === b.slice(i + 4) && Math.abs(Number(runA[0]) - Number(runB[0])) === 1;
  }

  function deviceSuggestions(typed, codes) {
    const near = [];
    const prefix = [];
    for (const code of codes) {
      if (code === typed) continue;
      const reason = yearApart(typed, code) ? t("outbox.birth_year") : oneEditApart(typed, code);
      if (reason && near.length < MAX_SUGGESTIONS) near.push({ code, reason });
      else if (typed.length >= 2 && code.startsWith(typed) && prefix.length < MAX_PREFIX) prefix.push(code);
    }
    return { near, prefix };
  }

  function codeButton(code, detail, className) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = className;
    button.dataset.code = code;
    const strong = document.createElement("strong");
    strong.textContent = code;
    button.append(strong);
    if (detail) {
      const small = document.createElement("span");
      small.className = "muted small";
      small.textContent = ` ${detail}`;
      button.append(small);
    }
    return button;
  }

  async function offlineLookup(panel, typed) {
    const kept = (await device.cacheGet("codes")) || { codes: [] };
    const card = document.createElement("div");
    card.className = "card offline-lookup";
    card.dataset.offlineLookup = typed;
    const head = document.createElement("p");
    const code = document.createElement("strong");
    code.className = "code";
    code.textContent = typed;
    const tag = document.createElement("span");
    tag.className = "status status-info";
    tag.textContent = t("outbox.offline_tag");
    head.append(code, " ", tag);
    card.append(head);
    const known = kept.codes.includes(typed);
    const line = document.createElement("p");
    line.className = "muted small";
    line.textContent = known ? t("outbox.seen_here") : t("outbox.not_seen");
    card.append(line);
    const { near, prefix } = known ? { near: [], prefix: [] } : deviceSuggestions(typed, kept.codes);
    if (near.length) {
      const ask = document.createElement("p");
      ask.textContent = t("outbox.did_you_mean");
      const list = document.createElement("ul");
      list.className = "suggestions";
      for (const s of near) list.appendChild(document.createElement("li")).append(codeButton(s.code, s.reason, "use-code"));
      card.append(ask, list);
    }
    if (prefix.length) {
      const p = document.createElement("p");
      p.className = "small";
      p.append(`${t("outbox.starting_with", { code: typed })} `);
      prefix.forEach((c, i) => p.append(codeButton(c, "", "use-code link"), i < prefix.length - 1 ? ", " : ""));
      card.append(p);
    }
    panel.replaceChildren(card);
    // intake.js moves the focus on when the panel has been swapped, as after htmx.
    panel.dispatchEvent(new CustomEvent("htmx:afterSwap", { bubbles: true, detail: { target: panel } }));
  }

  function wireOfflineLookup(form) {
    const panel = document.getElementById("participant-panel");
    const codeInput = form.querySelector("#code");
    const lookupUrl = form.dataset.lookupUrl;
    if (!panel || !codeInput || !lookupUrl) return;
    const isLookup = (event) => ((event.detail.requestConfig || {}).path || "").startsWith(lookupUrl);
    // intake.js asks htmx.ajax() with no source element: htmx's events fire on the body.
    document.body.addEventListener("htmx:beforeRequest", (event) => {
      if (navigator.onLine || !isLookup(event)) return;
      event.preventDefault();
      offlineLookup(panel, normalise(codeInput.value));
    });
    document.body.addEventListener("htmx:sendError", (event) => {
      if (isLookup(event)) offlineLookup(panel, normalise(codeInput.value));
    });
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const form = document.querySelector("#intake-form, #shift-form");
    if (!device || !form || !document.body.dataset.deviceUser) return;
    interceptSaves();
    wireActions(form);
    if (form.id === "intake-form") wireOfflineLookup(form);
    device.onChange(() => render());
    await refreshCopies(form);
    await settle();
    await render();
  });

  window.sspOutbox = { visitBody, keptEntries };
})();
