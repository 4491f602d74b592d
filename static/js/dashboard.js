// Draws the statistics charts: each <canvas data-chart="ID"> takes its data from <script type="application/json" id="ID">
// ({type, labels, datasets: [{label, data}], percent}), written by Django's json_script. No inline script (CSP).
(function () {
  if (typeof Chart === "undefined") return;
  const palette = ["#0b5cad", "#f59f00", "#2b8a3e", "#c92a2a", "#7048e8", "#1098ad", "#e8590c", "#868e96"];
  const language = document.documentElement.lang || "ru";
  const numbers = new Intl.NumberFormat(language, { maximumFractionDigits: 1 });
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#3d4656";

  const draw = (canvas) => {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source || canvas.dataset.drawn) return;
    const spec = JSON.parse(source.textContent || "null");
    if (!spec || !spec.labels) return;
    canvas.dataset.drawn = "1";
    const suffix = spec.percent ? " %" : "";
    const format = (value) => (value === null || value === undefined ? "—" : numbers.format(value) + suffix);
    const round = spec.type === "doughnut";
    const datasets = spec.datasets.map((dataset, index) => {
      const color = palette[index % palette.length];
      if (round) return { ...dataset, backgroundColor: palette, borderWidth: 1 };
      return {
        ...dataset,
        borderColor: color,
        backgroundColor: spec.type === "bar" ? color : color + "33",
        borderWidth: 2,
        pointRadius: 3,
        cubicInterpolationMode: "monotone",
        spanGaps: true,
      };
    });
    const options = {
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: {
          display: round || datasets.length > 1,
          position: "bottom",
          labels: { boxWidth: 12, usePointStyle: true },
        },
        tooltip: {
          callbacks: {
            label: (context) => {
              const value = round ? context.parsed : spec.horizontal ? context.parsed.x : context.parsed.y;
              return (context.dataset.label && !round ? context.dataset.label + ": " : context.label + ": ") + format(value);
            },
          },
        },
      },
    };
    if (!round) {
      // A horizontal bar chart puts the values on x and the group names on y.
      const valueAxis = spec.horizontal ? "x" : "y";
      const labelAxis = spec.horizontal ? "y" : "x";
      options.indexAxis = spec.horizontal ? "y" : "x";
      options.scales = {
        [labelAxis]: { ticks: { autoSkip: !spec.horizontal, maxRotation: 45 } },
        [valueAxis]: {
          beginAtZero: true,
          // Counts of people have no fractions; shares keep one decimal.
          ticks: { precision: spec.percent ? 1 : 0, callback: (value) => format(value) },
        },
      };
      if (spec.percent) options.scales[valueAxis].suggestedMax = 100;
    }
    new Chart(canvas, { type: spec.type, data: { labels: spec.labels, datasets }, options });
  };

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
