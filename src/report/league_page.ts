/**
 * The league's page (pdroute league, bench/LEAGUE.md): per scenario, every policy's medians
 * over seeds with their ranges, the best in each column, and the predictive policy's targets.
 * Self-contained and styled like the run report; no timestamp, so the same results give the
 * same bytes. Each scenario's run directories hold the full per-run data for `pdroute report`.
 */
import type { LeagueResult } from "../league/run.ts";
import { METRICS, type Metrics, type ScenarioStandings } from "../league/standings.ts";
import { esc, pageHead, table, type TableCell } from "./html.ts";

export function fmtMetric(key: keyof Metrics, x: number): string {
  const m = METRICS.find((m) => m.key === key)!;
  if (x === Infinity) return "none served";
  return x.toLocaleString("en-US", {
    minimumFractionDigits: m.digits,
    maximumFractionDigits: m.digits,
  });
}

function scenarioTable(s: ScenarioStandings): string {
  const head = ["policy", ...METRICS.map((m) => m.label), "seeds"];
  const rows = s.standings.map((st): TableCell[] => [
    { text: st.policy },
    ...METRICS.map((m) => {
      const best = s.best[m.key].includes(st.policy);
      const range = st.seeds > 1
        ? ` (${fmtMetric(m.key, st.min[m.key])}–${fmtMetric(m.key, st.max[m.key])})`
        : "";
      return {
        text: `${fmtMetric(m.key, st.median[m.key])}${best ? " ★" : ""}${range}`,
        ...(best && { tone: "better" as const }),
      };
    }),
    { text: String(st.seeds) },
  ]);
  return table(head, rows);
}

function targetList(s: ScenarioStandings): string {
  if (s.targets.length === 0) return "";
  const items = s.targets.map((t) =>
    `<li class="${t.met ? "better" : "worse"}">${t.met ? "met" : "missed"}: ${esc(t.target)} ` +
    `(predictive ${esc(String(round(t.value)))}, best other ${esc(t.bestOtherPolicy)} ${
      esc(String(round(t.bestOther)))
    })</li>`
  ).join("");
  return `<ul class="targets">${items}</ul>`;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function renderLeaguePage(r: LeagueResult): string {
  const checks = r.scenarios.flatMap((s) => s.targets);
  const met = checks.filter((t) => t.met).length;
  const sections = r.scenarios.map((s) =>
    `<section id="${esc(s.scenario)}"><h2>${esc(s.scenario)}</h2>
<p class="note">${esc(s.reason)}</p>
${scenarioTable(s)}
${targetList(s)}
<p class="note">Runs: <code>${
      esc(s.scenario)
    }/seed&lt;k&gt;/&lt;policy&gt;/</code> (open any of them with <code>pdroute report</code>).</p>
</section>`
  ).join("\n");
  return `${pageHead("pdroute league")}
<body>
<header>
<h1>pdroute league</h1>
<p class="lede">${r.scenarios.length} scenarios × ${r.policies.length} policies × ${r.seeds.length} seed${
    r.seeds.length === 1 ? "" : "s"
  } (${esc(r.seeds.join(", "))})${
    r.maxRequests === null ? "" : `, at most ${r.maxRequests} requests per scenario`
  }. Medians over seeds, ranges in parentheses; ★ marks the best in each column. Goodput is the
fraction of requests meeting both SLOs (higher is better); TTFT in ms, TPOT in ms per output token
(lower is better).${
    checks.length > 0 ? ` Predictive's targets: ${met} of ${checks.length} met.` : ""
  }</p>
<style>ul.targets li.better { color: #1a7f37; } ul.targets li.worse { color: #c2410c; }</style>
</header>
${sections}
</body>
</html>
`;
}
