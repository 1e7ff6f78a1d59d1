// The words of the app's scripts, in the page's language, without a fetch: base.html
// renders them as JSON (<script type="application/json" id="js-strings">, from every
// app's js_strings.py), so a page kept for offline use carries its words with it.
// The service worker has no page: it is handed the words the last page kept on the
// device (sspStrings.use, from the IndexedDB cache; see offline.js and sw.js).
//   sspStrings.t("outbox.visit_kept", { time: "14:30" })
//   sspStrings.t("shell.waiting", { n: 3 })   // a {one, other} entry: chosen by n
// Loaded first of the app's scripts; no inline script (CSP).
(function (scope) {
  "use strict";

  let table = null;
  let language = "en";

  function fromPage() {
    const source = scope.document && scope.document.getElementById("js-strings");
    if (!source) return {};
    try {
      return JSON.parse(source.textContent);
    } catch (error) {
      return {};
    }
  }

  function words() {
    if (table === null) {
      table = fromPage();
      if (scope.document) language = scope.document.documentElement.lang || language;
    }
    return table;
  }

  /** The worker's way in: the words (and their language) a page left on the device. */
  function use(strings, lang) {
    table = strings || {};
    if (lang) language = lang;
  }

  function lang() {
    words();
    return language;
  }

  function pluralForm(forms, n) {
    let category = "other";
    try {
      category = new Intl.PluralRules(language).select(Number(n));
    } catch (error) {
      category = Number(n) === 1 ? "one" : "other";
    }
    // Spanish has a "many" for millions; the catalogue has the two forms of gettext.
    return forms[category] || forms.other || forms.one;
  }

  // Numbers as the language writes them (1,200 / 1.200).
  const shown = (value) => (typeof value === "number" ? value.toLocaleString(language) : String(value));

  /** The text of `key` with its %(name)s filled from `params`; `fallback` (English)
   * where the words are missing (the worker before any page has run). */
  function t(key, params, fallback) {
    let text = words()[key];
    if (text && typeof text === "object") text = pluralForm(text, params && params.n);
    if (typeof text !== "string") text = fallback !== undefined ? fallback : key;
    return text.replace(/%\((\w+)\)s/g, (match, name) =>
      params && params[name] !== undefined ? shown(params[name]) : match,
    );
  }

  scope.sspStrings = { t, use, lang, all: words };
})(self);
