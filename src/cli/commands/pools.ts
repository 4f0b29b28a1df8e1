/**
 * `pdroute pools`: the seed lab's shared vs dedicated pool experiment on 2 x B200, simulated and
 * set beside the seed's measurements, with each claim of their ordering checked.
 */
import { Command } from "@commander-js/extra-typings";
import Table from "cli-table3";
import {
  DEFAULT_POOLS_OPTIONS,
  orderingChecks,
  type PoolsRun,
  runPoolsScenario,
  SEED_MEASURED,
} from "../../sim/scenarios/pools.ts";
import { SimConfigError } from "../../sim/config.ts";
import { CliError } from "../errors.ts";
import { parseNonNegativeInt } from "../parse.ts";

function perPool(run: PoolsRun): string {
  return Object.entries(run.summary.ttftByPool).map(([pool, s]) => `${pool} ${s.p50.toFixed(0)}`)
    .join(", ");
}

function queueDepth(run: PoolsRun): string {
  return Object.entries(run.summary.queueDepth.maxByPool).map(([pool, q]) => `${pool} ${q}`).join(
    ", ",
  );
}

export function poolsCommand() {
  const d = DEFAULT_POOLS_OPTIONS;
  return new Command("pools")
    .description(
      "The seed lab's 2 x B200 shared vs dedicated pool experiment, simulated beside its measurements",
    )
    .option("--long-tokens <n>", "long prompt length", parseNonNegativeInt, d.longTokens)
    .option("--short-tokens <n>", "short prompt length", parseNonNegativeInt, d.shortTokens)
    .option("--output-tokens <n>", "output tokens per request", parseNonNegativeInt, d.outputTokens)
    .option("--model <name>", "model preset", d.model)
    .option("--gpu <name>", "GPU preset", d.gpu)
    .option("--json", "print results as JSON")
    .action(async (opts) => {
      let runs: PoolsRun[];
      try {
        runs = await runPoolsScenario({
          longTokens: opts.longTokens,
          shortTokens: opts.shortTokens,
          outputTokens: opts.outputTokens,
          model: opts.model,
          gpu: opts.gpu,
        });
      } catch (e) {
        if (e instanceof SimConfigError) throw new CliError(e.message);
        throw e;
      }
      const checks = orderingChecks(runs);
      const ratio = runs[0].completionMs / runs[1].completionMs;
      const seedRatio = SEED_MEASURED.shared.completionMs / SEED_MEASURED.dedicated.completionMs;
      if (opts.json) {
        console.log(
          JSON.stringify(
            { options: opts, runs, seed: SEED_MEASURED, ratio, seedRatio, checks },
            null,
            2,
          ),
        );
        return;
      }
      console.log(
        `102 requests (6 x ${opts.longTokens}-token prompts first, then 96 x ${opts.shortTokens}), ` +
          `${opts.outputTokens} output tokens each, 2 x ${opts.gpu}, ${opts.model}. Simulated / seed measured (ms):`,
      );
      const table = new Table({
        head: [
          "layout",
          "completion",
          "short TTFT p50",
          "long TTFT p50",
          "TTFT p50 by pool",
          "max queue depth",
        ],
        style: { head: [], border: [] },
      });
      for (const r of runs) {
        const seed = SEED_MEASURED[r.layout];
        table.push([
          r.layout,
          `${r.completionMs.toFixed(0)} / ${seed.completionMs}`,
          `${r.shortTtftP50.toFixed(0)} / ${seed.shortTtftP50}`,
          `${r.longTtftP50.toFixed(0)} / ${seed.longTtftP50}`,
          perPool(r),
          queueDepth(r),
        ]);
      }
      console.log(table.toString());
      console.log(
        `shared/dedicated completion: ${ratio.toFixed(3)} simulated, ${
          seedRatio.toFixed(3)
        } measured`,
      );
      for (const c of checks) {
        console.log(`${c.holds ? "reproduced    " : "NOT reproduced"}  ${c.claim}`);
      }
    });
}
