// The sweep page's chart, drawn in the browser with Observable Plot (inlined with d3): mean SLO
// goodput against GPUs per configuration, one panel per rate, each policy's Pareto front as a
// line, the target dashed. Sets <html data-report="rendered"> (or "error") when done.
/* global d3, Plot */
(function () {
  "use strict";
  const root = document.documentElement;
  try {
    const data = JSON.parse(document.getElementById("sweep-data").textContent);
    const rows = data.configurations.map((c) => ({
      ...c,
      goodput: c.meanGoodputFraction * 100,
      rateLabel: `${c.rate}${data.rateUnit === "rateScale" ? "x" : " req/s"}`,
    }));
    const front = rows.filter((r) => r.pareto).sort((a, b) => a.gpus - b.gpus);
    const fig = document.querySelector('figure[data-chart="pareto"] .plot');
    const width = Math.max(480, fig.clientWidth || 900);
    fig.replaceChildren(Plot.plot({
      width,
      height: 380,
      marginLeft: 56,
      marginBottom: 44,
      color: { legend: true, range: d3.schemeTableau10 },
      fx: { label: null },
      x: { label: "GPUs →", grid: true },
      y: { label: "↑ SLO goodput (%, mean over seeds)", grid: true },
      marks: [
        Plot.ruleY([data.target * 100], { stroke: "#888", strokeDasharray: "4,3" }),
        Plot.line(front, { x: "gpus", y: "goodput", stroke: "policy", fx: "rateLabel" }),
        // Filled: meets the target on every seed; hollow: does not.
        Plot.dot(rows, {
          x: "gpus",
          y: "goodput",
          stroke: "policy",
          fill: "white",
          fx: "rateLabel",
          r: 4,
        }),
        Plot.dot(rows.filter((d) => d.meetsTarget), {
          x: "gpus",
          y: "goodput",
          fill: "policy",
          fx: "rateLabel",
          r: 4,
        }),
        Plot.tip(
          rows,
          Plot.pointer({
            x: "gpus",
            y: "goodput",
            fx: "rateLabel",
            title: (d) =>
              `${d.policy}, ${
                d.prefillGpus === 0 ? `${d.decodeGpus} shared` : `${d.prefillGpus}+${d.decodeGpus}`
              } GPUs: ${d.goodput.toFixed(2)}%`,
          }),
        ),
      ],
    }));
    root.dataset.report = "rendered";
  } catch (error) {
    root.dataset.report = "error";
    throw error;
  }
})();
