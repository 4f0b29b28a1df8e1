/**
 * `runLeague`: every selected scenario under every policy and seed, as independent runs on up
 * to `jobs` worker threads (src/sim/parallel.ts: the same bytes as a serial run), one run
 * directory each:
 *
 *   <out>/<league-id>/<scenario>/seed<k>/config.json       the scenario's resolved config
 *   <out>/<league-id>/<scenario>/seed<k>/<policy>/         summary.json, requests.csv, ...
 *   <out>/<league-id>/league.json, league.html             the standings (src/league/page.ts)
 */
import type { PolicyName } from "../core/policies.ts";
import { writeJson } from "../io/json_file.ts";
import type { RunSummary } from "../metrics/run_metrics.ts";
import { type RunSpec, runSpecs } from "../sim/parallel.ts";
import { choicesForPolicies } from "../sim/run.ts";
import { type ScenarioStandings, scenarioStandings, standingOf } from "./standings.ts";
import { type Scenario, scenarioConfig } from "./suite.ts";

export interface LeagueOptions {
  readonly scenarios: readonly Scenario[];
  readonly policies: readonly PolicyName[];
  readonly seeds: readonly number[];
  /** Parent of the league directory; null writes nothing. */
  readonly outDir: string | null;
  readonly leagueId: string;
  readonly jobs: number;
  /** Caps every scenario's requests (quick slices); undefined runs them whole. */
  readonly maxRequests?: number;
  /** Called as each run finishes: how many are done of how many. */
  readonly onRun?: (done: number, total: number, scenario: string, policy: string) => void;
}

export interface LeagueResult {
  readonly leagueId: string;
  readonly dir: string | null;
  readonly policies: readonly PolicyName[];
  readonly seeds: readonly number[];
  readonly maxRequests: number | null;
  readonly scenarios: ScenarioStandings[];
  readonly wallMs: number;
}

export async function runLeague(o: LeagueOptions): Promise<LeagueResult> {
  const started = performance.now();
  const root = o.outDir === null ? null : `${o.outDir}/${o.leagueId}`;
  const specs: RunSpec[] = [];
  const where: { scenario: number; policy: number }[] = [];
  o.scenarios.forEach((scenario, si) => {
    for (const seed of o.seeds) {
      const config = scenarioConfig(scenario, seed, o.maxRequests);
      const dir = root ? `${root}/${scenario.name}/seed${seed}` : null;
      if (dir) {
        Deno.mkdirSync(dir, { recursive: true });
        writeJson(`${dir}/config.json`, config);
      }
      choicesForPolicies(o.policies).forEach((choice, pi) => {
        specs.push({ config, choice, dir: dir ? `${dir}/${choice.label}` : null });
        where.push({ scenario: si, policy: pi });
      });
    }
  });
  let done = 0;
  const runs = await runSpecs(specs, {
    jobs: o.jobs,
    onDone: (i) => {
      done++;
      o.onRun?.(done, specs.length, o.scenarios[where[i].scenario].name, specs[i].choice.label);
    },
  });
  const summaries: RunSummary[][][] = o.scenarios.map(() => o.policies.map(() => []));
  runs.forEach((run, i) => summaries[where[i].scenario][where[i].policy].push(run.summary));
  const scenarios = o.scenarios.map((s, si) =>
    scenarioStandings(s.name, s.reason, o.policies.map((p, pi) => standingOf(p, summaries[si][pi])))
  );
  return {
    leagueId: o.leagueId,
    dir: root,
    policies: o.policies,
    seeds: o.seeds,
    maxRequests: o.maxRequests ?? null,
    scenarios,
    wallMs: performance.now() - started,
  };
}
