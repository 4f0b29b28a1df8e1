/**
 * `pdroute simulate`: round robin vs the predictive policy on a simulated fleet, or any set of
 * policies side by side (`--policies`). With no arguments it runs the embedded default
 * scenario (DEFAULT_SIM_CONFIG); flags and a JSON config file override any part of it.
 */
import { Command, Option } from "@commander-js/extra-typings";
import { readJson } from "../../io/json_file.ts";
import { resolveSimConfig, type SimConfig, SimConfigError } from "../../sim/config.ts";
import { defaultJobs } from "../../sim/parallel.ts";
import { choicesForMode, choicesForPolicies, runComparison } from "../../sim/run.ts";
import { TopologyInputError } from "../../topology/mod.ts";
import { WorkloadError } from "../../workload/resolve.ts";
import { TraceError } from "../../workload/trace_error.ts";
import { SYNTHETIC_PRESETS } from "../../workload/synthetic.ts";
import { CliError } from "../errors.ts";
import { workloadFromFlags } from "../workload_flags.ts";
import { comparisonTable } from "../format/comparison_table.ts";
import { RunProgress } from "../format/progress.ts";
import { reportErrors, writeHtmlReport } from "./report.ts";
import {
  parseDelayOrNone,
  parseDurationMs,
  parseGpuSet,
  parseJobs,
  parseNonNegativeInt,
  parseNonNegativeNumber,
  parsePolicyList,
  parsePositiveInt,
  parsePositiveNumber,
} from "../parse.ts";
import { POLICY_NAMES } from "../../core/policies.ts";

type Options = ReturnType<ReturnType<typeof simulateCommand>["opts"]>;

export function simulateCommand() {
  return new Command("simulate")
    .description(
      "Simulate a GPU fleet under round robin and the predictive policy and compare them",
    )
    .addOption(
      new Option("--mode <mode>", "which policies to run").choices(
        ["baseline", "optimized", "both"] as const,
      ).default("both" as const),
    )
    .option(
      "--policies <list>",
      `policies side by side, the first as the baseline (replaces --mode): ${
        POLICY_NAMES.join(", ")
      }; see also 'pdroute league'`,
      parsePolicyList,
    )
    .option(
      "--jobs <n>",
      `policies simulated in parallel on worker threads (default: the cores, here ${defaultJobs()}); ` +
        "results are identical whatever the number",
      parseJobs,
    )
    .option("--config <file>", "JSON simulation config (any part of the defaults; see README)")
    .addOption(
      new Option("--layout <layout>", "pool layout").choices(
        ["shared", "dual", "conditional"] as const,
      ),
    )
    .option("--gpus <n|list>", "shared pool: GPU count or indexes (0,1 or 0-3)", parseGpuSet)
    .option("--prefill-gpus <n|list>", "prefill pool: GPU count or indexes", parseGpuSet)
    .option("--decode-gpus <n|list>", "decode pool: GPU count or indexes", parseGpuSet)
    .option("--model <name>", "model preset: llama-3-8b, llama-3-70b, llama-2-70b")
    .option("--gpu <name>", "GPU preset: a100, h100, h200, b200")
    .option("--tp <n>", "tensor parallel GPUs per engine", parsePositiveInt)
    .option(
      "--topology <file>",
      "topology document (pdroute topology) placing the GPUs; default: all pairs equal",
    )
    .option(
      "--migration-budget <n>",
      "migrations allowed per window (0 disables)",
      parseNonNegativeInt,
    )
    .option(
      "--migration-window <duration>",
      "migration budget window (simulated time)",
      parseDurationMs,
    )
    .option(
      "--seed <n>",
      "random seed (same seed and inputs: identical results)",
      parseNonNegativeInt,
    )
    .option("--workload <name>", `synthetic workload: ${Object.keys(SYNTHETIC_PRESETS).join(", ")}`)
    .option("--requests <n>", "synthetic workload: number of requests", parsePositiveInt)
    .option("--rate <req/s>", "synthetic workload: arrival rate", parsePositiveNumber)
    .option(
      "--trace <file>",
      "replay a trace: .csv Azure 2023, .jsonl Mooncake (.gz too), or a shipped one: azure-conv, azure-code, mooncake-conversation, mooncake-synthetic",
    )
    .option("--rate-scale <x>", "trace: arrival-rate multiplier", parsePositiveNumber)
    .option(
      "--duration <duration>",
      "trace: keep arrivals in the first duration (e.g. 10m)",
      parseDurationMs,
    )
    .option("--max-requests <n>", "trace: keep at most n requests", parsePositiveInt)
    .option("--slo-ttft-ms <ms>", "SLO on time to first token", parsePositiveNumber)
    .option("--slo-tpot-ms <ms>", "SLO on time per output token", parsePositiveNumber)
    .addOption(
      new Option("--implementation <impl>", "scoring core that decides").choices(
        ["wasm", "reference"] as const,
      ),
    )
    .addOption(
      new Option("--prefix-knowledge <kind>", "what the router knows of the prefix caches")
        .choices(["precise", "approximate"] as const),
    )
    .option("--kv-event-delay-ms <ms>", "precise: KV event latency", parseNonNegativeNumber)
    .option(
      "--engine-block-tokens <n>",
      "engines' prefix-cache block size (divides 512; vLLM: 16)",
      parsePositiveInt,
    )
    .addOption(
      new Option("--prefix-cache-pool <pool>", "engines' prefix cache: in the KV pool or beside it")
        .choices(["shared", "reserved"] as const),
    )
    .option("--replicas <n>", "router replicas", parsePositiveInt)
    .option(
      "--sync-delay-ms <ms|none>",
      "how late replicas see each other's load and prefixes (none: never)",
      parseDelayOrNone,
    )
    .addOption(
      new Option("--replica-spread <how>", "how requests spread over replicas").choices(
        ["round-robin", "session"] as const,
      ),
    )
    .option("--out <dir>", "where run directories go", "artifacts/runs")
    .option("--run-id <id>", "run directory name (default: timestamp and seed)")
    .option("--no-artifacts", "write nothing, print results only")
    .option("--no-report", "do not write report.html into the run directory")
    .option("--json", "print the results as JSON instead of a table")
    .action(async (opts) => {
      const config = await configFrom(opts);
      const runId = opts.runId ?? defaultRunId(config.seed);
      const total = config.workload.kind === "trace"
        ? config.workload.options.maxRequests ?? null
        : config.workload.kind === "preset"
        ? (opts.requests ?? SYNTHETIC_PRESETS[config.workload.name]?.requests ?? null)
        : config.workload.requests;
      const progress = new RunProgress(total);
      let runs;
      try {
        runs = await runComparison(config, {
          policies: opts.policies ? choicesForPolicies(opts.policies) : choicesForMode(opts.mode),
          outDir: opts.artifacts ? opts.out : null,
          runId,
          jobs: opts.jobs ?? defaultJobs(),
          onProgress: (label, ms, done) => progress.update(label, ms, done),
        });
      } catch (e) {
        if (
          e instanceof TraceError || e instanceof SimConfigError || e instanceof WorkloadError ||
          e instanceof TopologyInputError
        ) {
          throw new CliError(e.message);
        }
        throw e;
      } finally {
        progress.stop();
      }
      const report = opts.artifacts && opts.report
        ? await reportErrors(() =>
          writeHtmlReport([`${opts.out}/${runId}`], `${opts.out}/${runId}/report.html`)
        )
        : null;
      if (opts.json) {
        const dir = opts.artifacts ? `${opts.out}/${runId}` : null;
        console.log(
          JSON.stringify(
            {
              runId,
              dir,
              report: report?.path ?? null,
              runs: runs.map((r) => ({ label: r.label, dir: r.dir, summary: r.summary })),
            },
            null,
            2,
          ),
        );
        return;
      }
      const s = runs[0].summary;
      console.log(
        `pdroute simulate: ${s.run.workload}, ${s.requests.total} requests, layout ${s.run.layout}, ` +
          `${s.run.gpus} GPUs, seed ${s.run.seed}, core ${s.run.implementation}`,
      );
      console.log(comparisonTable(runs));
      const wall = runs.map((r) => `${r.label} ${(r.wallMs / 1000).toFixed(2)} s`).join(", ");
      console.log(`wall time: ${wall}`);
      if (opts.artifacts) {
        console.log(`artifacts: ${opts.out}/${runId}/ (${runs.map((r) => r.label).join(", ")})`);
      }
      if (report) console.log(`report: ${report.path}`);
    });
}

function defaultRunId(seed: number): string {
  const now = new Date();
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-seed${seed}`;
}

/** Defaults, then the config file, then flags. */
async function configFrom(opts: Options): Promise<SimConfig> {
  let file: unknown;
  if (opts.config) {
    try {
      file = await readJson(opts.config, "config file");
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  const flags: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => value !== undefined && (flags[key] = value);
  set("layout", opts.layout);
  set("gpus", opts.gpus);
  set("prefillGpus", opts.prefillGpus);
  set("decodeGpus", opts.decodeGpus);
  set("model", opts.model);
  set("gpu", opts.gpu);
  set("tensorParallel", opts.tp);
  set("seed", opts.seed);
  set("topology", opts.topology);
  if (opts.sloTtftMs !== undefined || opts.sloTpotMs !== undefined) {
    flags.slo = {
      ...(opts.sloTtftMs !== undefined && { ttftMs: opts.sloTtftMs }),
      ...(opts.sloTpotMs !== undefined && { tpotMs: opts.sloTpotMs }),
    };
  }
  if (opts.migrationBudget !== undefined || opts.migrationWindow !== undefined) {
    flags.policy = {
      predictive: {
        migration: {
          ...(opts.migrationBudget !== undefined && { budget: opts.migrationBudget }),
          ...(opts.migrationWindow !== undefined && { windowMs: opts.migrationWindow }),
        },
      },
    };
  }
  const router: Record<string, unknown> = {};
  const setRouter = (key: string, value: unknown) => value !== undefined && (router[key] = value);
  setRouter("implementation", opts.implementation);
  setRouter("prefixKnowledge", opts.prefixKnowledge);
  setRouter("kvEventDelayMs", opts.kvEventDelayMs);
  setRouter("replicas", opts.replicas);
  setRouter("syncDelayMs", opts.syncDelayMs);
  setRouter("replicaSpread", opts.replicaSpread);
  if (Object.keys(router).length > 0) flags.router = router;
  const engine: Record<string, unknown> = {};
  if (opts.engineBlockTokens !== undefined) engine.prefixBlockTokens = opts.engineBlockTokens;
  if (opts.prefixCachePool !== undefined) engine.prefixCachePool = opts.prefixCachePool;
  if (Object.keys(engine).length > 0) flags.engine = engine;
  const fileWorkload = (file as { workload?: { kind?: string; name?: string } } | undefined)
    ?.workload;
  const workload = workloadFromFlags(
    opts,
    fileWorkload?.kind === "preset" ? fileWorkload.name : undefined,
  );
  if (workload) flags.workload = workload;
  try {
    return resolveSimConfig(file, flags);
  } catch (e) {
    if (e instanceof SimConfigError) throw new CliError(e.message);
    throw e;
  }
}
