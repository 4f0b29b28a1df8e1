/**
 * `pdroute league`: every policy on a suite of scenarios and seeds (src/league/suite.json),
 * ranked per scenario: SLO goodput, TTFT p50/p95/p99, TPOT p50/p99 (medians over seeds), the
 * best in each column and the predictive policy's targets (bench/LEAGUE.md). Writes one run
 * directory per scenario, seed and policy, plus league.json and league.html.
 */
import { Command } from "@commander-js/extra-typings";
import { PolicyInputError } from "../../core/errors.ts";
import { POLICY_NAMES } from "../../core/policies.ts";
import { writeJson } from "../../io/json_file.ts";
import { runLeague } from "../../league/run.ts";
import { loadSuite, selectScenarios, SuiteError } from "../../league/suite.ts";
import { renderLeaguePage } from "../../report/league_page.ts";
import { SimConfigError } from "../../sim/config.ts";
import { defaultJobs } from "../../sim/parallel.ts";
import { TopologyInputError } from "../../topology/mod.ts";
import { WorkloadError } from "../../workload/resolve.ts";
import { TraceError } from "../../workload/trace_error.ts";
import { CliError } from "../errors.ts";
import { leagueText } from "../format/league_table.ts";
import { parseJobs, parsePolicyList, parsePositiveInt } from "../parse.ts";

const INPUT_ERRORS = [
  SuiteError,
  SimConfigError,
  TraceError,
  WorkloadError,
  TopologyInputError,
  PolicyInputError,
];

function parseNameList(value: string): string[] {
  return value.split(",").map((n) => n.trim()).filter((n) => n !== "");
}

export function leagueCommand() {
  return new Command("league")
    .description(
      "Rank every policy on a suite of scenarios and seeds: goodput, TTFT and TPOT per scenario",
    )
    .option("--suite <file>", "scenario suite (JSON; default: the shipped src/league/suite.json)")
    .option("--scenarios <list>", "only these scenarios (comma-separated names)", parseNameList)
    .option(
      "--policies <list>",
      `policies to rank (default all: ${POLICY_NAMES.join(", ")})`,
      parsePolicyList,
    )
    .option("--seeds <n>", "seeds per scenario: 1..n (default 3)", parsePositiveInt)
    .option(
      "--max-requests <n>",
      "cap every scenario at n requests (a quick slice)",
      parsePositiveInt,
    )
    .option("--jobs <n>", "runs simulated in parallel (default: the core count)", parseJobs)
    .option("--out <dir>", "where the league's directory goes", "artifacts/league")
    .option("--league-id <id>", "the league's directory name (default: a timestamp)")
    .option("--no-artifacts", "write nothing, print results only")
    .option("--json", "print the standings as JSON instead of tables")
    .action(async (opts) => {
      const seedCount = opts.seeds ?? 3;
      const leagueId = opts.leagueId ?? defaultLeagueId();
      let result;
      try {
        const suite = await loadSuite(opts.suite);
        const scenarios = selectScenarios(suite, opts.scenarios);
        result = await runLeague({
          scenarios,
          policies: opts.policies ?? POLICY_NAMES,
          seeds: Array.from({ length: seedCount }, (_, i) => i + 1),
          outDir: opts.artifacts ? opts.out : null,
          leagueId,
          jobs: opts.jobs ?? defaultJobs(),
          maxRequests: opts.maxRequests,
          onRun: opts.json ? undefined : progressLine,
        });
      } catch (e) {
        if (INPUT_ERRORS.some((k) => e instanceof k)) throw new CliError((e as Error).message);
        throw e;
      }
      if (!opts.json && Deno.stderr.isTerminal()) console.error("");
      if (result.dir) {
        writeJson(`${result.dir}/league.json`, result);
        Deno.writeTextFileSync(`${result.dir}/league.html`, renderLeaguePage(result));
      }
      if (opts.json) {
        console.log(JSON.stringify(result, null, 2));
        return;
      }
      console.log(leagueText(result));
      console.log(`wall time: ${(result.wallMs / 1000).toFixed(1)} s`);
      if (result.dir) console.log(`league: ${result.dir}/league.html (and league.json)`);
    });
}

/** One updating line on a terminal; nothing off a terminal (logs stay readable). */
function progressLine(done: number, total: number, scenario: string, policy: string): void {
  if (!Deno.stderr.isTerminal()) return;
  const text = `league: ${done}/${total} runs (${scenario} / ${policy})`;
  Deno.stderr.writeSync(new TextEncoder().encode(`\r${text.padEnd(72)}`));
}

function defaultLeagueId(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}
