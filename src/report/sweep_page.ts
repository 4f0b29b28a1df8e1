/**
 * A sweep's page (pdroute sweep, docs/SWEEP.md): the answer (fewest GPUs meeting the SLO
 * goodput target, per rate and policy), the Pareto front of goodput against GPUs, and every
 * configuration and point. Self-contained like the run report (same styles, chart library and
 * Content-Security-Policy) and free of timestamps, so the same results give the same bytes.
 */
import type { SweepSummary } from "../sweep/summary.ts";
import { answerLines } from "../sweep/summary.ts";
import { esc, figure, pageHead, table, type TableCell } from "./html.ts";
import { scriptJson } from "./page_data.ts";
import { browserLibraries } from "./vendor.ts";

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const num = (x: number, digits = 1) => x.toFixed(digits);

function configurationTable(s: SweepSummary): string {
  const head = [
    "policy",
    s.rateUnit === "rateScale" ? "rate scale" : "rate (req/s)",
    "prefill + decode",
    "GPUs",
    "seeds",
    "mean goodput",
    "worst goodput",
    "meets target",
    "Pareto",
  ];
  const rows = s.configurations.map((c): TableCell[] => [
    { text: c.policy },
    { text: String(c.rate) },
    { text: c.prefillGpus === 0 ? `${c.decodeGpus} shared` : `${c.prefillGpus} + ${c.decodeGpus}` },
    { text: String(c.gpus) },
    { text: String(c.seeds) },
    { text: pct(c.meanGoodputFraction) },
    { text: pct(c.minGoodputFraction), tone: c.meetsTarget ? "better" : "worse" },
    { text: c.meetsTarget ? "yes" : "no" },
    { text: c.pareto ? "yes" : "" },
  ]);
  return table(head, rows);
}

function pointTable(s: SweepSummary): string {
  const head = [
    "point",
    "policy",
    "GPUs",
    "rate",
    "seed",
    "completed",
    "shed",
    "goodput",
    "TTFT p95 (ms)",
    "TPOT p95 (ms)",
    "$ / 1M tokens",
    "directory",
  ];
  const rows = s.rows.map((r): TableCell[] => [
    { text: String(r.index) },
    { text: r.policy },
    { text: String(r.gpus) },
    { text: String(r.rate) },
    { text: String(r.seed) },
    { text: String(r.completed) },
    { text: String(r.shed) },
    { text: pct(r.goodputFraction), tone: r.meetsTarget ? "better" : "worse" },
    { text: num(r.ttftP95Ms) },
    { text: num(r.tpotP95Ms, 2) },
    { text: num(r.costPerMillionTokens, 3) },
    { text: `points/${r.group}/${r.policy}`, mono: true },
  ]);
  return table(head, rows, new Set([head.length - 1]));
}

export async function renderSweepPage(s: SweepSummary): Promise<string> {
  const libraries = await browserLibraries();
  const client = await Deno.readTextFile(new URL("./client/sweep.js", import.meta.url));
  const answers = answerLines(s).map((l) => `<li>${esc(l)}</li>`).join("");
  const data = {
    target: s.target.goodputFraction,
    rateUnit: s.rateUnit,
    configurations: s.configurations,
  };
  return `${pageHead(`pdroute sweep: ${s.name}`)}
<body>
<header>
<h1>${esc(`pdroute sweep: ${s.name}`)}</h1>
<p class="lede">${s.rows.length} points, ${s.configurations.length} configurations. Target: SLO goodput of at least ${
    esc(pct(s.target.goodputFraction))
  } on every seed.</p>
</header>
<section id="answer"><h2>Fewest GPUs meeting the target</h2>
<ul class="notes">${answers}</ul>
</section>
<section id="pareto"><h2>Goodput against GPUs</h2>
${
    figure(
      "pareto",
      "SLO goodput vs GPUs",
      "Each dot a configuration (mean over seeds; filled: meets the target on every seed), one panel per rate; lines join each policy's Pareto front (no other configuration has as few GPUs and more goodput); the dashed line is the target.",
    )
  }
</section>
<section id="configurations"><h2>Configurations</h2>
${configurationTable(s)}
</section>
<section id="points"><h2>Points</h2>
<p class="note">Each point's run directory holds summary.json, requests.csv and timeline.csv: <code>pdroute report</code> draws any of them.</p>
${pointTable(s)}
</section>
<footer>Charts: ${
    esc(libraries.map((l) => `${l.name} ${l.version}`).join(", "))
  } (inlined). Self-contained: this file loads nothing.</footer>
${libraries.map((l) => `<script>${l.code}</script>`).join("\n")}
<script type="application/json" id="sweep-data">${scriptJson(data)}</script>
<script>${client.replace(/<\/script/gi, "<\\/script")}</script>
</body>
</html>
`;
}
