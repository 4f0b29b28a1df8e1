/** The league's terminal output: one table per scenario, then predictive's targets. */
import Table from "cli-table3";
import type { LeagueResult } from "../../league/run.ts";
import { METRICS, type ScenarioStandings } from "../../league/standings.ts";
import { fmtMetric } from "../../report/league_page.ts";

export function scenarioTable(s: ScenarioStandings): string {
  const table = new Table({
    head: ["policy", ...METRICS.map((m) => m.label)],
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const st of s.standings) {
    table.push([
      st.policy,
      ...METRICS.map((m) =>
        `${fmtMetric(m.key, st.median[m.key])}${s.best[m.key].includes(st.policy) ? " *" : ""}`
      ),
    ]);
  }
  return table.toString();
}

export function targetLines(s: ScenarioStandings): string[] {
  return s.targets.map((t) =>
    `  ${t.met ? "met   " : "MISSED"} ${t.target}: predictive ${round(t.value)}, ` +
    `best other ${t.bestOtherPolicy} ${round(t.bestOther)}`
  );
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function leagueText(r: LeagueResult): string {
  const out: string[] = [];
  for (const s of r.scenarios) {
    out.push(`\n${s.scenario}: ${s.reason}`);
    out.push(scenarioTable(s));
    out.push(...targetLines(s));
  }
  const checks = r.scenarios.flatMap((s) => s.targets);
  if (checks.length > 0) {
    out.push(
      `\npredictive's targets: ${checks.filter((t) => t.met).length} of ${checks.length} met ` +
        `(* marks the best median in each column; medians over seeds ${r.seeds.join(", ")})`,
    );
  }
  return out.join("\n");
}
