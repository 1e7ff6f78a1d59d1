// Report request form: show only the inputs of the chosen kind of period.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("report-request");
  if (!form) return;
  const sync = () => {
    const chosen = form.querySelector("input[name=period_kind]:checked");
    const kind = chosen ? chosen.value : "month";
    form.querySelectorAll("[data-period]").forEach((block) => {
      block.classList.toggle("hidden", block.dataset.period !== kind);
    });
  };
  form.addEventListener("change", (event) => {
    if (event.target.name === "period_kind") sync();
  });
  sync();
});

// The print view's "Print" button (no inline script: the CSP allows none).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
