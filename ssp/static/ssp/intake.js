// Front desk: keyboard first. Type the code, Enter; Enter takes the usual supplies;
// Enter saves. Digits 1–9 add quick supplies and U the usual ones when not typing.
// No inline script anywhere (CSP): everything is wired here from data attributes.
(() => {
  "use strict";

  const { t } = window.sspStrings;

  const normalise = (text) =>
    text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toUpperCase().replace(/[^A-Z0-9]/g, "");

  function setupCart(form) {
    const cart = form.querySelector("#cart");
    if (!cart) return null;
    const empty = form.querySelector(".cart-empty");
    const refresh = () => empty && empty.classList.toggle("hidden", cart.rows.length > 0);

    function add(kind, id, name, quantity = 1, replace = false) {
      const key = `${kind}:${id}`;
      let row = cart.querySelector(`tr[data-key="${key}"]`);
      if (row) {
        const qty = row.querySelector("input.qty");
        qty.value = replace ? quantity : (parseInt(qty.value, 10) || 0) + quantity;
      } else {
        row = document.createElement("tr");
        row.dataset.key = key;
        const nameCell = row.insertCell();
        nameCell.textContent = name + " ";
        if (kind === "kit") {
          const tag = document.createElement("span");
          tag.className = "status status-info";
          tag.textContent = t("intake.kit");
          nameCell.append(tag);
        }
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "line";
        hidden.value = key;
        nameCell.append(hidden);
        const qtyCell = row.insertCell();
        qtyCell.className = "num";
        const qty = document.createElement("input");
        Object.assign(qty, { type: "number", name: "qty", min: "1", value: quantity, className: "qty" });
        qty.inputMode = "numeric";
        qty.setAttribute("aria-label", t("intake.quantity_of", { name }));
        qtyCell.append(qty);
        const removeCell = row.insertCell();
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "remove-line";
        remove.textContent = "×";
        remove.setAttribute("aria-label", t("intake.remove", { name }));
        removeCell.append(remove);
        cart.append(row);
      }
      refresh();
      return row;
    }

    function clear() {
      while (cart.rows.length) cart.deleteRow(0);
      refresh();
    }

    cart.addEventListener("click", (event) => {
      const button = event.target.closest(".remove-line");
      if (button) {
        button.closest("tr").remove();
        refresh();
      }
    });
    const other = form.querySelector("#other-supply");
    const addOther = form.querySelector("#add-other");
    if (other && addOther) {
      addOther.addEventListener("click", () => {
        const [kind, id] = other.value.split(":");
        const name = other.selectedOptions[0].textContent;
        add(kind, id, name).querySelector("input.qty").focus();
      });
    }
    refresh();
    return { add, clear, count: () => cart.rows.length };
  }

  // Typing in a field: one-key shortcuts stay out of the way.
  const typing = (event) =>
    event.ctrlKey || event.metaKey || event.altKey ||
    ["input", "textarea", "select"].includes((event.target.tagName || "").toLowerCase());

  // Quick-add buttons and their keys 1–9: the front desk and the street shift share them.
  function setupQuickAdd(form, cart, afterKey) {
    const buttons = () => Array.from(form.querySelectorAll(".quick-add"));
    form.addEventListener("click", (event) => {
      const quick = event.target.closest(".quick-add");
      if (quick) cart.add(quick.dataset.kind, quick.dataset.id, quick.dataset.name);
    });
    document.addEventListener("keydown", (event) => {
      if (typing(event) || !/^[1-9]$/.test(event.key)) return;
      const button = buttons()[parseInt(event.key, 10) - 1];
      if (!button) return;
      event.preventDefault();
      button.click();
      if (afterKey) afterKey();
    });
    return buttons;
  }

  function setupIntake(form) {
    const cart = setupCart(form);
    const codeInput = form.querySelector("#code");
    const anonymous = form.querySelector("#anonymous");
    const panel = document.getElementById("participant-panel");
    const save = form.querySelector("#save");
    const lookupUrl = form.dataset.lookupUrl;
    let lookedUp = "";
    let pending = false;
    let focusAfterLookup = false;
    let timer = null;

    const quickButtons = setupQuickAdd(form, cart, () => save.focus());

    function focusNext() {
      // A near-match suggestion first: Enter takes it, Escape dismisses it. Otherwise the
      // habitual Enter, Enter would add quick supplies to a new, split code.
      const suggestion = panel.querySelector(".suggestions .use-code");
      if (suggestion) {
        suggestion.focus();
        return;
      }
      const usual = document.getElementById("use-usual");
      if (usual && cart.count() === 0) usual.focus();
      else if (cart.count() > 0) save.focus();
      else if (quickButtons()[0]) quickButtons()[0].focus();
    }

    function lookup() {
      const code = normalise(codeInput.value);
      if (code === lookedUp) {
        // Still waiting for the panel: focus moves when it arrives.
        if (focusAfterLookup && !pending) {
          focusAfterLookup = false;
          focusNext();
        }
        return;
      }
      lookedUp = code;
      if (code.length < 3) {
        panel.innerHTML = "";
        return;
      }
      if (anonymous) anonymous.checked = false;
      pending = true;
      window.htmx.ajax("GET", `${lookupUrl}?code=${encodeURIComponent(code)}`, {
        target: panel,
        swap: "innerHTML",
      });
    }

    codeInput.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(lookup, 300);
    });
    codeInput.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      clearTimeout(timer);
      if (!normalise(codeInput.value)) {
        // Nothing typed: Enter moves on (anonymous must be ticked explicitly).
        focusNext();
        return;
      }
      focusAfterLookup = true;
      lookup();
    });

    // A look-up over the rate limit (429) explains itself in the panel.
    panel.addEventListener("htmx:beforeSwap", (event) => {
      if (event.target === panel && event.detail.xhr.status === 429) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
        lookedUp = ""; // the same code is looked up again once the wait is over
      }
    });
    panel.addEventListener("htmx:responseError", (event) => {
      if (event.target === panel) pending = false;
    });
    panel.addEventListener("htmx:afterSwap", (event) => {
      if (event.target !== panel) return;
      pending = false;
      if (focusAfterLookup) {
        focusAfterLookup = false;
        focusNext();
      }
    });

    panel.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !event.target.closest(".suggestions")) return;
      event.preventDefault();
      const list = event.target.closest(".suggestions");
      const question = list.previousElementSibling;
      list.remove();
      if (question && question.classList.contains("did-you-mean")) question.remove();
      focusNext();
    });

    // Asked by the server ("new person?"): the answer is the next key.
    const askNewPerson = form.querySelector("#confirm-new-person");
    if (askNewPerson) askNewPerson.focus();

    document.body.addEventListener("click", (event) => {
      const usual = event.target.closest("#use-usual");
      if (usual) {
        cart.clear();
        for (const line of JSON.parse(usual.dataset.lines || "[]")) {
          cart.add(line.kind, line.id, line.name, line.quantity);
        }
        save.focus();
        return;
      }
      const suggestion = event.target.closest(".use-code");
      if (suggestion) {
        codeInput.value = suggestion.dataset.code;
        focusAfterLookup = true;
        lookup();
      }
    });

    if (anonymous) {
      anonymous.addEventListener("change", () => {
        if (anonymous.checked) {
          codeInput.value = "";
          lookedUp = "";
          panel.innerHTML = "";
        }
      });
    }

    // A code built from its parts fills the code field; the parts are cleared at once.
    document.body.addEventListener("htmx:afterSwap", (event) => {
      if (event.target.id !== "built-code-result") return;
      const built = event.target.querySelector("[data-built-code]");
      if (!built) return;
      codeInput.value = built.dataset.builtCode;
      form.querySelectorAll(".parts input").forEach((input) => (input.value = ""));
      const details = document.getElementById("build-code");
      if (details) details.open = false;
      focusAfterLookup = true;
      lookup();
    });

    // One-key shortcuts when the person is not typing in a field (digits: setupQuickAdd).
    document.addEventListener("keydown", (event) => {
      if (typing(event)) return;
      if (event.key === "u" || event.key === "U") {
        const usual = document.getElementById("use-usual");
        if (usual) {
          event.preventDefault();
          usual.click();
        }
      } else if (event.key === "/") {
        event.preventDefault();
        codeInput.focus();
        codeInput.select();
      }
    });

    // Letter keys outside a field (data-key): a service toggle flips, a field takes the
    // focus (its "more" section opens). Escape in such a field goes on to Save.
    const keyed = () => Array.from(form.querySelectorAll("[data-key]"));
    document.addEventListener("keydown", (event) => {
      if (typing(event) || event.key.length !== 1) return;
      const target = keyed().find((el) => el.dataset.key === event.key.toUpperCase());
      if (!target) return;
      event.preventDefault();
      if (target.type === "checkbox") {
        target.click();
        return;
      }
      const details = target.closest("details");
      if (details) details.open = true;
      target.focus();
    });
    form.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || event.target === codeInput) return;
      if (!event.target.matches("input, select")) return;
      event.preventDefault();
      save.focus();
    });

    // "Add another" in an upper app's section copies its last row, emptied.
    form.addEventListener("click", (event) => {
      const button = event.target.closest(".add-extra-row");
      if (!button) return;
      const rows = button.parentElement.querySelector(".extra-rows");
      const last = rows.querySelector(".extra-row:last-child");
      const copy = last.cloneNode(true);
      const n = rows.children.length + 1;
      copy.querySelectorAll("select, input").forEach((field) => {
        field.value = "";
        field.removeAttribute("data-key");
        field.id = field.id.replace(/-\d+$/, `-${n}`);
      });
      copy.querySelectorAll("label").forEach((label) => {
        label.htmlFor = label.htmlFor.replace(/-\d+$/, `-${n}`);
      });
      rows.append(copy);
      const first = copy.querySelector("select, input");
      if (first) first.focus();
    });

    form.addEventListener("submit", () => {
      // The client_uuid makes a second submission harmless; this only spares the wait.
      setTimeout(() => (save.disabled = true), 0);
    });

    if (codeInput.value) lookedUp = normalise(codeInput.value);
  }

  function setupSiteSwitch() {
    document.querySelectorAll("select.auto-submit").forEach((select) => {
      select.addEventListener("change", () => select.form.submit());
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupSiteSwitch();
    const intake = document.getElementById("intake-form");
    if (intake) setupIntake(intake);
    document.querySelectorAll("form.supply-form").forEach((form) => {
      const cart = setupCart(form);
      if (cart) setupQuickAdd(form, cart);
    });
  });
})();
