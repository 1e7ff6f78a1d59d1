// Dashboard charts: one line chart per figure, a line per site and one for the total.
// Data come from the json_script tag "trends-data" (not executable, so CSP allows it).
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("trends-data");
  if (!source || typeof window.Chart === "undefined") return;
  const trends = JSON.parse(source.textContent);
  const { t, lang } = window.sspStrings;
  const palette = ["#0b5d66", "#b5651d", "#6a3d9a", "#2e7d32", "#c2185b", "#1565c0", "#8d6e63"];
  const percent = (value) => `${Math.round(value * 100)}%`;
  // The running month is "so far": the segment into it is dotted and its point hollow,
  // so a month one day old reads as unfinished, not as a drop.
  const partial = trends.partial || [];
  const soFar = (i) => Boolean(partial[i]);
  const charts = document.getElementById("charts");
  const soFarLabel = (charts && charts.dataset.soFar) || t("reports.so_far");
  const labels = trends.month_labels.map((label, i) => (soFar(i) ? `${label} (${soFarLabel})` : label));

  document.querySelectorAll("canvas[data-series]").forEach((canvas) => {
    const name = canvas.dataset.series;
    const isRate = name === "linkage_rate";
    const datasets = trends.scopes.map((scope, i) => {
      const isTotal = scope.key === "TOTAL";
      const colour = isTotal ? "#1d2430" : palette[i % palette.length];
      return {
        label: scope.label,
        data: trends.series[name][scope.key],
        borderColor: colour,
        backgroundColor: colour,
        borderWidth: isTotal ? 3 : 2,
        borderDash: isTotal ? [] : [4, 3],
        spanGaps: false,
        tension: 0.2,
        segment: {
          borderDash: (ctx) => (soFar(ctx.p1DataIndex) ? [2, 5] : undefined),
        },
        pointBackgroundColor: trends.month_labels.map((_, i) => (soFar(i) ? "#fff" : colour)),
        pointRadius: trends.month_labels.map((_, i) => (soFar(i) ? 5 : 3)),
      };
    });
    canvas.chart = new window.Chart(canvas, {
      type: "line",
      data: { labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: {
            beginAtZero: true,
            ticks: isRate ? { callback: percent } : { precision: 0 },
            max: isRate ? 1 : undefined,
          },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const value = ctx.raw;
                if (value === null || value === undefined) {
                  return `${ctx.dataset.label}: ${isRate ? "–" : t("reports.suppressed")}`;
                }
                return `${ctx.dataset.label}: ${isRate ? percent(value) : value.toLocaleString(lang())}`;
              },
            },
          },
        },
      },
    });
  });
  document.body.dataset.chartsReady = "true";
});
