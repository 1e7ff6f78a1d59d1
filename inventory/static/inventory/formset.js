// "Add a line" on the receive and transfer pages: copies the formset's empty form
// (kept in a <template> inside the table) with the next index, and bumps TOTAL_FORMS.
// The table is looked up at each click: htmx replaces the transfer lines when the
// sending location changes.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button[data-add-line]").forEach((button) => {
    const prefix = button.dataset.addLine;
    button.addEventListener("click", () => {
      const table = document.querySelector(`table[data-formset="${prefix}"]`);
      const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
      if (!table || !total) return;
      const template = table.querySelector("template");
      const index = Number(total.value);
      const html = template.innerHTML.replaceAll("__prefix__", String(index));
      table.querySelector("tbody").insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      const rows = table.querySelectorAll("tbody tr");
      const last = rows[rows.length - 1];
      limitPackSizes(last);
      const first = last.querySelector("select, input");
      if (first) first.focus();
    });
  });

  // Receipt lines: "Counted in" offers only the chosen item's pack sizes (each option
  // carries data-item); the server refuses any other pack size all the same.
  function limitPackSizes(row) {
    const item = row.querySelector("td.item select");
    const packs = row.querySelector("td.pack_size select");
    if (!item || !packs) return;
    packs.querySelectorAll("option[data-item]").forEach((option) => {
      const fits = option.dataset.item === item.value;
      option.hidden = !fits;
      option.disabled = !fits;
      if (!fits && option.selected) packs.value = "";
    });
  }
  document.querySelectorAll('table[data-formset] tbody tr').forEach(limitPackSizes);
  document.addEventListener("change", (event) => {
    if (event.target.matches("table[data-formset] td.item select")) {
      limitPackSizes(event.target.closest("tr"));
    }
  });
});
