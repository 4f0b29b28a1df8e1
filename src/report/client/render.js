// The report page's charts, drawn in the browser with Observable Plot (inlined with d3 into the
// page, so nothing is fetched). Reads the JSON in #report-data (src/report/page_data.ts), fills
// every <figure data-chart=...>, then sets <html data-report="rendered"> (or "error") so a
// headless browser knows when to look.
/* global d3, Plot */
(function () {
  "use strict";
  const root = document.documentElement;
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const runs = data.runs;
  const runNames = runs.map((r) => r.name);
  const runColor = { domain: runNames, range: d3.schemeTableau10, legend: true };
  const num = d3.format(",.1f");
  const num2 = d3.format(",.2f");
  const num3 = d3.format(",.3f");
  const facetHeight = (n) => 40 + 170 * n;
  /** Room on the right for the run names that label facet rows. */
  const facetMargin = Math.max(90, 16 + 6.5 * d3.max(runNames, (n) => n.length));

  /** The top of a y axis from zero: the largest value, or 1 when all are 0 (a flat line). */
  function top(rows) {
    const max = d3.max(rows, (d) => d.value);
    return max > 0 ? max : 1;
  }

  function gpuName(g) {
    return `GPU ${g.gpu} (${g.pool})`;
  }

  /** A CDF of `key` ("ttftMs" or "tpotMs") per run, with p50/p95/p99 marked. */
  function cdf(key, what, unit) {
    return (width) => {
      const rows = runs.flatMap((r) =>
        r[key].cdf.map((pt) => ({ run: r.name, value: pt.value, pct: pt.p * 100 }))
      );
      if (rows.length === 0) return null;
      const markers = runs.flatMap((r) =>
        [50, 95, 99].filter((p) => r[key][`p${p}`] !== null).map((p) => ({
          run: r.name,
          p,
          value: r[key][`p${p}`],
        }))
      );
      const values = rows.map((d) => d.value);
      const lo = d3.min(values), hi = d3.max(values);
      const log = lo > 0 && hi / lo > 20;
      return Plot.plot({
        width,
        height: 360,
        marginLeft: 56,
        marginBottom: 44,
        x: {
          type: log ? "log" : "linear",
          label: `${what} (${unit}${log ? ", log scale" : ""}) →`,
          labelAnchor: "center",
          labelOffset: 36,
          grid: true,
          tickFormat: log ? "~s" : undefined,
        },
        y: { label: "↑ requests at or below (%)", domain: [0, 100], grid: true },
        color: runColor,
        marks: [
          Plot.ruleY([50, 95, 99], { stroke: "#999", strokeDasharray: "4,3" }),
          // p95 and p99 are close: one label above its line, one below.
          ...[[[50, 99], -6], [[95], 9]].map(([ps, dy]) =>
            Plot.text(ps, {
              x: lo,
              y: (d) => d,
              text: (d) => `p${d}`,
              textAnchor: "start",
              dy,
              fill: "#555",
            })
          ),
          Plot.line(rows, {
            x: "value",
            y: "pct",
            stroke: "run",
            strokeWidth: 2,
            curve: "step-after",
          }),
          Plot.dot(markers, { x: "value", y: "p", fill: "run", stroke: "white", r: 4.5 }),
          Plot.tip(
            rows,
            Plot.pointer({
              x: "value",
              y: "pct",
              stroke: "run",
              title: (d) => `${d.run}\n${num(d.pct)}% of requests ≤ ${num2(d.value)} ${unit}`,
            }),
          ),
        ],
      });
    };
  }

  function bars(pick, yLabel, format) {
    return (width) => {
      const rows = runs.map((r) => ({ run: r.name, value: pick(r) }));
      // Names that would not fit side by side under their bars are slanted.
      const longest = d3.max(runNames, (n) => n.length);
      const slant = longest * 6.5 > (width - 80) / runs.length;
      return Plot.plot({
        width,
        height: slant ? 300 + Math.min(120, longest * 4) : 300,
        marginLeft: 56,
        marginTop: 28,
        marginBottom: slant ? 20 + Math.min(120, longest * 4) : 30,
        x: { label: null, domain: runNames, tickSize: 0, tickRotate: slant ? -35 : 0 },
        y: { label: yLabel, grid: true, nice: true },
        color: runColor,
        marks: [
          Plot.barY(rows, { x: "run", y: "value", fill: "run", tip: true }),
          Plot.text(rows, { x: "run", y: "value", text: (d) => format(d.value), dy: -8 }),
          Plot.ruleY([0]),
        ],
      });
    };
  }

  /** Lines over time, one panel per run; `series(run)` gives [{name, values}] on run.timeline.t. */
  function overTime(series, yLabel, percent) {
    return (width) => {
      const rows = [];
      for (const r of runs) {
        for (const s of series(r)) {
          r.timeline.t.forEach((t, i) => {
            const v = s.values[i];
            rows.push({
              run: r.name,
              t,
              series: s.name,
              value: v === null ? NaN : percent ? v * 100 : v,
            });
          });
        }
      }
      if (rows.length === 0) return null;
      const names = [...new Set(rows.map((d) => d.series))];
      return Plot.plot({
        width,
        height: facetHeight(runs.length),
        marginLeft: 56,
        marginRight: facetMargin,
        x: { label: "time since first sample (s) →", grid: true },
        y: {
          label: yLabel,
          grid: true,
          nice: true,
          domain: [0, percent ? 100 : top(rows)],
        },
        fy: { label: null, domain: runNames },
        color: { domain: names, legend: true, scheme: names.length > 10 ? "turbo" : "tableau10" },
        marks: [
          Plot.frame({ stroke: "#ddd" }),
          Plot.lineY(rows, { x: "t", y: "value", stroke: "series", fy: "run", strokeWidth: 1.5 }),
          Plot.tip(
            rows,
            Plot.pointerX({
              x: "t",
              y: "value",
              fy: "run",
              stroke: "series",
              title: (d) => `${d.run} · ${d.series}\nt = ${num(d.t)} s: ${num2(d.value)}`,
            }),
          ),
        ],
      });
    };
  }

  const poolSeries = (field, withRouter) => (r) => {
    const out = r.timeline.pools.map((p) => ({
      name: `${p.pool} pool (${p.gpus} GPU${p.gpus === 1 ? "" : "s"}, mean)`,
      values: p[field],
    }));
    if (
      withRouter && r.timeline.cluster && r.timeline.cluster.routerQueue.some((v) => v !== null)
    ) {
      out.push({ name: "router queue (total)", values: r.timeline.cluster.routerQueue });
    }
    return out;
  };
  const gpuSeries = (field) => (r) =>
    r.timeline.gpus.map((g) => ({ name: gpuName(g), values: g[field] }));

  /**
   * Migrations and sheds per second, one panel each with its own y scale (a few sheds must
   * not vanish next to many migrations), one line per run.
   */
  function events(width) {
    const metrics = [["migrationsPerS", "migrations per second"], [
      "shedsPerS",
      "sheds per second",
    ]];
    const rows = [];
    for (const r of runs) {
      const c = r.timeline.cluster;
      if (!c) continue;
      r.timeline.t.forEach((t, i) => {
        for (const [key, metric] of metrics) {
          rows.push({ run: r.name, t, metric, value: c[key][i] });
        }
      });
    }
    if (rows.length === 0) return null;
    const xDomain = d3.extent(rows, (d) => d.t);
    const box = document.createElement("div");
    metrics.forEach(([, metric], i) => {
      const last = i === metrics.length - 1;
      const mine = rows.filter((d) => d.metric === metric);
      box.append(Plot.plot({
        width,
        height: last ? 210 : 190,
        marginLeft: 56,
        marginRight: facetMargin,
        marginBottom: last ? 40 : 20,
        x: { domain: xDomain, label: last ? "time since first sample (s) →" : null, grid: true },
        y: { label: `↑ ${metric}`, grid: true, nice: true, domain: [0, top(mine)] },
        color: { ...runColor, legend: i === 0 },
        marks: [
          Plot.frame({ stroke: "#ddd" }),
          Plot.lineY(mine, { x: "t", y: "value", stroke: "run", strokeWidth: 1.5 }),
          Plot.tip(
            mine,
            Plot.pointerX({
              x: "t",
              y: "value",
              stroke: "run",
              title: (d) => `${d.run}\nt = ${num(d.t)} s: ${num2(d.value)} ${d.metric}`,
            }),
          ),
        ],
      }));
    });
    return box;
  }

  function admissions(width) {
    const rows = runs.flatMap((r) =>
      r.perGpu.flatMap((g) => [
        { run: r.name, gpu: gpuName(g), kind: "prefills", count: g.prefills },
        { run: r.name, gpu: gpuName(g), kind: "decodes", count: g.decodes },
      ])
    );
    if (rows.length === 0) return null;
    const gpus = [...new Set(rows.map((d) => d.gpu))];
    return Plot.plot({
      width,
      height: facetHeight(runs.length) + 30,
      marginLeft: 56,
      marginRight: facetMargin,
      marginBottom: gpus.length > 8 ? 70 : 40,
      x: { axis: null, domain: ["prefills", "decodes"] },
      fx: { label: null, domain: gpus, tickRotate: gpus.length > 8 ? -30 : 0 },
      fy: { label: null, domain: runNames },
      y: { label: "↑ requests admitted", grid: true, nice: true },
      color: { domain: ["prefills", "decodes"], range: ["#4e79a7", "#f28e2b"], legend: true },
      marks: [
        Plot.barY(rows, { fx: "gpu", fy: "run", x: "kind", y: "count", fill: "kind", tip: true }),
        Plot.ruleY([0]),
      ],
    });
  }

  const charts = {
    "ttft-cdf": cdf("ttftMs", "time to first token", "ms"),
    "tpot-cdf": cdf("tpotMs", "time per output token", "ms/token"),
    "goodput-fraction": bars(
      (r) => r.goodput.fraction * 100,
      "↑ requests meeting both SLOs (%)",
      (v) => `${num(v)}%`,
    ),
    "goodput-rate": bars((r) => r.goodput.perSecond, "↑ SLO goodput (requests/s)", num2),
    "cost": bars((r) => r.cost.perMillionTokens, "↑ cost ($ per 1M tokens)", (v) => `$${num3(v)}`),
    "queue-pool": overTime(poolSeries("waiting", true), "↑ waiting requests (per GPU)", false),
    "queue-gpu": overTime(gpuSeries("waiting"), "↑ waiting requests", false),
    "kv-pool": overTime(poolSeries("kvUsage", false), "↑ KV cache in use (%)", true),
    "kv-gpu": overTime(gpuSeries("kvUsage"), "↑ KV cache in use (%)", true),
    "events": events,
    "admissions": admissions,
  };

  let failed = false;
  for (const figure of document.querySelectorAll("figure[data-chart]")) {
    const id = figure.dataset.chart;
    const host = figure.querySelector(".plot");
    try {
      const draw = charts[id];
      if (!draw) throw new Error(`no chart named ${id}`);
      const chart = draw(Math.max(320, host.clientWidth));
      if (chart === null) {
        figure.dataset.empty = "true";
        host.textContent = "No data for this chart in these runs.";
      } else {
        host.append(chart);
      }
    } catch (error) {
      failed = true;
      figure.dataset.error = String(error);
      host.textContent = `This chart failed: ${error}`;
      console.error(`chart ${id}:`, error);
    }
  }
  root.dataset.report = failed ? "error" : "rendered";
})();
