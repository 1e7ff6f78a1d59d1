// "Add a line" on the receive and transfer pages: copies the formset's empty form
// (kept in a <template> inside the table) with the next index, and bumps TOTAL_FORMS.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button[data-add-line]").forEach((button) => {
    const prefix = button.dataset.addLine;
    const table = document.querySelector(`table[data-formset="${prefix}"]`);
    const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
    if (!table || !total) return;
    const template = table.querySelector("template");
    button.addEventListener("click", () => {
      const index = Number(total.value);
      const html = template.innerHTML.replaceAll("__prefix__", String(index));
      table.querySelector("tbody").insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      const rows = table.querySelectorAll("tbody tr");
      const first = rows[rows.length - 1].querySelector("select, input");
      if (first) first.focus();
    });
  });
});
