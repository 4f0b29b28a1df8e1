/**
 * The report as one self-contained HTML file: styles, the chart library, the data and the
 * script that draws the charts are all inline, and a Content-Security-Policy forbids the page
 * from loading anything, so it opens the same from disk, an e-mail or a CI artifact.
 */
import { configDifferences } from "./config_diff.ts";
import { type PageData, scriptJson } from "./page_data.ts";
import type { LoadedRun } from "./run_loader.ts";
import type { BrowserLibrary } from "./vendor.ts";

export interface TableCell {
  readonly text: string;
  readonly tone?: "better" | "worse";
  readonly mono?: boolean;
}

export interface ReportPage {
  readonly title: string;
  readonly generatedAt: string;
  readonly runs: readonly LoadedRun[];
  readonly baseline: number;
  /** The comparison table (src/cli/format/comparison_table.ts: comparisonCells). */
  readonly table: { readonly head: readonly string[]; readonly rows: readonly TableCell[][] };
  readonly data: PageData;
  readonly libraries: readonly BrowserLibrary[];
  readonly client: string;
}

export const CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

export function esc(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

const int = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: 0 });
const fixed = (x: number | null, digits = 1) =>
  x === null ? "–" : x.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });

export const STYLE = `
:root { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; }
body { margin: 0 auto; padding: 16px 24px 48px; max-width: 1320px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-top: 8px; border-top: 1px solid #e3e3e3; }
h3 { font-size: 15px; margin: 0 0 4px; }
p.lede, p.note, figcaption { color: #555; margin: 4px 0 8px; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #ccc; background: #fafafa; }
th.left { text-align: left; }
td.better { color: #1a7f37; } td.worse { color: #c2410c; }
td.dir { font-family: ui-monospace, monospace; font-size: 12px; text-align: left;
  white-space: normal; overflow-wrap: anywhere; min-width: 16em; }
.table-wrap { max-width: 100%; overflow-x: auto; }
.grid { display: grid; gap: 16px; }
.grid.two { grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); }
.grid.three { grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); }
figure[data-chart] { margin: 0; padding: 10px 12px; border: 1px solid #e6e6e6; border-radius: 6px; }
figure[data-chart] .plot { min-height: 60px; }
.plot figure { margin: 0; }
figure[data-empty] .plot, figure[data-error] .plot { color: #a00; padding: 16px 0; }
.notes { background: #f6f8fa; border: 1px solid #e3e6ea; border-radius: 6px; padding: 8px 14px; }
.notes li { margin: 2px 0; }
details { margin: 6px 0; } summary { cursor: pointer; }
pre { background: #f6f8fa; padding: 8px 12px; overflow: auto; max-height: 480px; font-size: 12px; }
footer { margin-top: 40px; color: #777; font-size: 12px; }
`;

/** A page's opening up to </head>: charset, viewport, the CSP, its title and the styles. */
export function pageHead(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>`;
}

export function figure(id: string, title: string, caption: string): string {
  return `<figure data-chart="${id}"><h3>${esc(title)}</h3><figcaption>${
    esc(caption)
  }</figcaption><div class="plot"></div></figure>`;
}

export function table(
  head: readonly string[],
  rows: readonly TableCell[][],
  left: ReadonlySet<number> = new Set(),
): string {
  const th = head.map((h, i) => `<th${left.has(i) ? ' class="left"' : ""}>${esc(h)}</th>`)
    .join("");
  const body = rows.map((row) =>
    `<tr>${
      row.map((c) => {
        const cls = c.mono ? "dir" : c.tone;
        return `<td${cls ? ` class="${cls}"` : ""}>${esc(c.text)}</td>`;
      }).join("")
    }</tr>`
  ).join("\n");
  return `<div class="table-wrap"><table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function runsTable(runs: readonly LoadedRun[], baseline: number): string {
  const head = [
    "run",
    "policy",
    "workload",
    "layout",
    "GPUs",
    "seed",
    "requests",
    "completed",
    "shed",
    "rejected",
    "failed",
    "duration (s)",
    "directory",
  ];
  const rows = runs.map((r, i) => {
    const s = r.summary;
    return [
      { text: i === baseline ? `${r.name} (baseline)` : r.name },
      { text: s.run.policy },
      { text: s.run.workload },
      { text: s.run.layout },
      { text: int(s.run.gpus) },
      { text: String(s.run.seed) },
      { text: int(s.requests.total) },
      { text: int(s.requests.completed) },
      { text: int(s.requests.shed) },
      { text: int(s.requests.rejected) },
      { text: int(s.requests.failed) },
      { text: fixed(s.durationMs / 1000) },
      { text: r.dir, mono: true },
    ];
  });
  return table(head, rows, new Set([head.length - 1]));
}

function percentileTable(runs: readonly LoadedRun[]): string {
  const head = [
    "run",
    "TTFT p50 (ms)",
    "TTFT p95 (ms)",
    "TTFT p99 (ms)",
    "TPOT p50 (ms/token)",
    "TPOT p95 (ms/token)",
    "TPOT p99 (ms/token)",
    "requests in CDF",
  ];
  const rows = runs.map((r) => {
    const { ttftMs: a, tpotMs: b } = r.requests;
    return [
      { text: r.name },
      { text: fixed(a.p50) },
      { text: fixed(a.p95) },
      { text: fixed(a.p99) },
      { text: fixed(b.p50, 2) },
      { text: fixed(b.p95, 2) },
      { text: fixed(b.p99, 2) },
      { text: `${int(a.count)} (${int(a.cdf.length)} points drawn)` },
    ];
  });
  return table(head, rows);
}

function notes(runs: readonly LoadedRun[]): string {
  const items = [
    "Latency CDFs are drawn through quantile samples of each run's completed requests (200 " +
    "evenly spaced in probability plus 50 between p99 and the maximum), not every request; " +
    "the p50/p95/p99 dots and the percentile table are exact, from every row of requests.csv. " +
    "TPOT counts requests with more than one output token. The summary table comes from " +
    "summary.json, whose percentiles are HDR-histogram estimates (3 significant digits).",
    ...runs.map((r) => {
      const t = r.timeline;
      const timeline = t.samples === 0
        ? "timeline.csv has no samples"
        : t.aggregated
        ? `timeline: ${int(t.samples)} samples averaged into ${t.t.length} points of ${
          fixed(t.stepMs / 1000, 2)
        } s each (rates are per second over each point)`
        : `timeline: all ${int(t.samples)} samples, every ${fixed(t.stepMs / 1000, 2)} s`;
      const statuses = Object.entries(r.requests.byStatus).map(([k, v]) => `${int(v)} ${k}`)
        .join(", ");
      return `${r.name}: requests.csv has ${int(r.requests.rows)} rows (${
        statuses || "none"
      }); ${timeline}.`;
    }),
  ];
  return `<ul class="notes">${items.map((i) => `<li>${esc(i)}</li>`).join("")}</ul>`;
}

function configs(runs: readonly LoadedRun[]): string {
  const withConfig = runs.filter((r) => r.config !== null);
  const differences = configDifferences(withConfig.map((r) => r.config));
  const intro = withConfig.length < 2
    ? ""
    : differences.length === 0
    ? `<p class="note">The runs' configs are identical.</p>`
    : `<p class="note">Where the runs' configs differ:</p>` +
      table(
        ["setting", ...withConfig.map((r) => r.name)],
        differences.map((row) => row.map((text) => ({ text }))),
      );
  return intro + runs.map((r) => {
    const body = r.config === null
      ? `<p class="note">No config.json in ${esc(r.dir)} or its comparison directory.</p>`
      : `<pre>${esc(JSON.stringify(r.config, null, 2))}</pre>`;
    const from = r.configPath === null ? "" : ` — ${esc(r.configPath)}`;
    return `<details><summary><b>${esc(r.name)}</b>${from}</summary>${body}</details>`;
  }).join("\n");
}

export function renderReport(page: ReportPage): string {
  const { runs } = page;
  const slo = [
    ...new Set(
      runs.map((r) =>
        `TTFT ≤ ${r.summary.goodput.sloTtftMs} ms and TPOT ≤ ${r.summary.goodput.sloTpotMs} ms/token`
      ),
    ),
  ].join("; ");
  const libs = page.libraries.map((l) => `${l.name} ${l.version}`).join(", ");
  return `${pageHead(page.title)}
<body>
<header>
<h1>${esc(page.title)}</h1>
<p class="lede">${runs.length} run${runs.length === 1 ? "" : "s"}, compared with <b>${
    esc(runs[page.baseline].name)
  }</b> as the baseline. Generated ${esc(page.generatedAt)} by <code>pdroute report</code>.</p>
</header>
<section id="runs"><h2>Runs</h2>
${runsTable(runs, page.baseline)}
${notes(runs)}
</section>
<section id="summary"><h2>Summary</h2>
<p class="note">From each run's summary.json. Ratios are each run divided by the baseline; green is better, orange worse.</p>
${table(page.table.head, page.table.rows)}
</section>
<section id="latency"><h2>Latency distributions</h2>
<div class="grid two">
${
    figure(
      "ttft-cdf",
      "Time to first token (TTFT)",
      "CDF over completed requests; dots: p50, p95, p99.",
    )
  }
${
    figure(
      "tpot-cdf",
      "Time per output token (TPOT)",
      "CDF over completed requests with 2+ output tokens; dots: p50, p95, p99.",
    )
  }
</div>
${percentileTable(runs)}
</section>
<section id="goodput"><h2>SLO goodput and cost</h2>
<p class="note">Goodput counts requests that met the SLO: ${esc(slo)}.</p>
<div class="grid three">
${
    figure(
      "goodput-fraction",
      "SLO goodput (share)",
      "Requests meeting both SLOs, % of all requests.",
    )
  }
${figure("goodput-rate", "SLO goodput (rate)", "Requests meeting both SLOs per second of the run.")}
${
    figure(
      "cost",
      "Cost per million tokens",
      "Fleet price × run duration ÷ (prompt + output tokens).",
    )
  }
</div>
</section>
<section id="queues"><h2>Queue depth over time</h2>
${
    figure(
      "queue-pool",
      "Queue depth per pool",
      "Requests waiting in each GPU's engine queue, averaged over the pool's GPUs; the router queue is the whole queue held by the router.",
    )
  }
${figure("queue-gpu", "Queue depth per GPU", "Requests waiting in each GPU's engine queue.")}
</section>
<section id="kv"><h2>KV cache usage over time</h2>
${
    figure(
      "kv-pool",
      "KV usage per pool",
      "KV cache in use as % of capacity, averaged over the pool's GPUs.",
    )
  }
${figure("kv-gpu", "KV usage per GPU", "KV cache in use as % of each GPU's capacity.")}
</section>
<section id="events"><h2>Migrations and sheds over time</h2>
${
    figure(
      "events",
      "Migrations and sheds",
      "Decode migrations and shed requests per second (timeline.csv cluster rows), one scale each.",
    )
  }
</section>
<section id="placement"><h2>Where requests went</h2>
${
    figure(
      "admissions",
      "Admissions per GPU",
      "Prefills and decodes admitted by each GPU (summary.json perGpu; a migration counts as a decode admission on its target).",
    )
  }
</section>
<section id="config"><h2>Resolved configuration</h2>
${configs(runs)}
</section>
<footer>Charts: ${esc(libs)} (inlined). Self-contained: this file loads nothing.</footer>
${page.libraries.map((l) => `<script>${l.code}</script>`).join("\n")}
<script type="application/json" id="report-data">${scriptJson(page.data)}</script>
<script>${page.client.replace(/<\/script/gi, "<\\/script")}</script>
</body>
</html>
`;
}
