// Item detail: units on hand (line) and dispensed per day (bars) over 90 days.
// Data come from the json_script tag "item-trend-data" (not executable, so CSP allows it).
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("item-trend-data");
  const canvas = document.getElementById("item-trend");
  if (!source || !canvas || typeof window.Chart === "undefined") return;
  const trend = JSON.parse(source.textContent);
  const { t } = window.sspStrings;
  canvas.chart = new window.Chart(canvas, {
    data: {
      labels: trend.labels,
      datasets: [
        {
          type: "line",
          label: t("stock.on_hand"),
          data: trend.on_hand,
          borderColor: "#0b5d66",
          backgroundColor: "#0b5d66",
          borderWidth: 2,
          pointRadius: 0,
          stepped: true,
          yAxisID: "y",
        },
        {
          type: "bar",
          label: t("stock.dispensed"),
          data: trend.dispensed,
          backgroundColor: "#b5651d",
          yAxisID: "y",
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
  document.body.dataset.chartsReady = "true";
});
