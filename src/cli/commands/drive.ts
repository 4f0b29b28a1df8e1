/**
 * `pdroute drive`: a load driver for OpenAI-compatible servers, writing the simulator's
 * artifact format. Three ways to say what to drive:
 * - `--target URL`: one server (the router, an emulator, vLLM) as it is;
 * - `--engines URLs`: engines (emulators or vLLM) with a router started here in front of
 *   them, once per `--layouts` x `--policies` (the shared vs dual pool comparison);
 * - `--model PATH --prefill-gpus L --decode-gpus L`: launch one `vllm serve` per GPU first
 *   (needs vLLM; says so and exits 1 without it), then as with `--engines`, and stop them.
 */
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { EngineModelError } from "../../engine_model/setup.ts";
import { GPU_PRESETS } from "../../engine_model/hardware.ts";
import { readJson } from "../../io/json_file.ts";
import { writeJson } from "../../io/json_file.ts";
import { RouterConfigError, type RouterConfigInput } from "../../router/config.ts";
import {
  fleetRuns,
  type Layout,
  type PolicyName,
  runFleetComparison,
} from "../../drive/compare.ts";
import { type DriveOptions, type DriveResult, runDrive } from "../../drive/load.ts";
import { discoverTarget } from "../../drive/targets.ts";
import { type Launched, launchEngines, LaunchError } from "../../drive/vllm_launch.ts";
import { resolveSimConfig, type SimConfig, SimConfigError } from "../../sim/config.ts";
import { resolveWorkload, WorkloadError } from "../../workload/resolve.ts";
import { SYNTHETIC_PRESETS } from "../../workload/synthetic.ts";
import { TraceError } from "../../workload/trace_error.ts";
import { POLICY_NAMES } from "../../core/policies.ts";
import { CliError } from "../errors.ts";
import { comparisonTable } from "../format/comparison_table.ts";
import { gpuTable, poolTable } from "../format/pool_table.ts";
import {
  parseDurationMs,
  parseGpuIndexes,
  parseNonNegativeInt,
  parsePolicyList,
  parsePositiveInt,
  parsePositiveNumber,
  parseUrlList,
} from "../parse.ts";
import { workloadFromFlags } from "../workload_flags.ts";

function parseList<T extends string>(allowed: readonly T[]) {
  return (value: string): T[] => {
    const items = value.split(",").map((s) => s.trim());
    for (const item of items) {
      if (!allowed.includes(item as T)) {
        throw new InvalidArgumentError(`'${item}' is not one of ${allowed.join(", ")}`);
      }
    }
    return items as T[];
  };
}

const LAYOUTS = ["shared", "dual", "conditional"] as const;

export function driveCommand() {
  return new Command("drive")
    .description(
      "Drive load at an OpenAI-compatible server, or at engines behind a router started here " +
        "(shared vs dual pools, round robin vs predictive); write simulator-format artifacts",
    )
    .option("--target <url>", "drive this server as it is (router, emulator or vLLM)")
    .option(
      "--engines <urls>",
      "engines to put a router in front of (comma-separated)",
      parseUrlList,
    )
    .option("--model <path>", "launch vLLM with this model on --prefill-gpus/--decode-gpus")
    .option(
      "--prefill-gpus <list>",
      "GPUs for prefill engines when launching vLLM",
      parseGpuIndexes,
    )
    .option("--decode-gpus <list>", "GPUs for decode engines when launching vLLM", parseGpuIndexes)
    .option(
      "--layouts <list>",
      "with --engines/--model: shared, dual, conditional",
      parseList(LAYOUTS),
    )
    .option(
      "--policies <list>",
      `with --engines/--model: any of ${POLICY_NAMES.join(", ")}`,
      parsePolicyList,
    )
    .option(
      "--prefill-count <n>",
      "with --engines: the first n engines form the prefill pool",
      parseNonNegativeInt,
      1,
    )
    .option(
      "--router-config <file>",
      "JSON router config for routers started here (docs/ROUTER.md)",
    )
    .option(
      "--engine-model <name>",
      "model preset of the engines (router's predicted rates)",
      "llama-3-8b",
    )
    .option("--engine-gpu <name>", "GPU preset of the engines (rates and cost)", "h100")
    .option("--tp <n>", "GPUs per engine", parsePositiveInt, 1)
    .option(
      "--time-scale <x>",
      "engines run x times faster than real (emulators' --speed): scale arrivals and results",
      parsePositiveNumber,
      1,
    )
    .option(
      "--sim-config <file>",
      "take the workload, seed and SLOs from a 'pdroute simulate --config' file (sim-to-real)",
    )
    .option("--workload <name>", `synthetic workload: ${Object.keys(SYNTHETIC_PRESETS).join(", ")}`)
    .option("--requests <n>", "synthetic workload: number of requests", parsePositiveInt)
    .option("--rate <req/s>", "synthetic workload: arrival rate", parsePositiveNumber)
    .option(
      "--trace <file>",
      "replay a trace: .csv Azure 2023, .jsonl Mooncake (.gz too), or a shipped one: azure-conv, azure-code, mooncake-conversation, mooncake-synthetic",
    )
    .option("--rate-scale <x>", "trace: arrival-rate multiplier", parsePositiveNumber)
    .option("--duration <duration>", "trace: keep arrivals in the first duration", parseDurationMs)
    .option("--max-requests <n>", "trace: keep at most n requests", parsePositiveInt)
    .option("--seed <n>", "workload seed (same as simulate's; default 1)", parseNonNegativeInt)
    .option(
      "--concurrency <n>",
      "closed loop with n clients (default: open loop at the workload's arrival times)",
      parsePositiveInt,
    )
    .addOption(
      new Option("--api <api>", "which endpoint to call").choices(["completions", "chat"] as const)
        .default("completions" as const),
    )
    .option("--no-stream", "non-streaming requests (TTFT is then the whole answer)")
    .option("--served-model-name <name>", "model name to send (default: the server's first model)")
    .option(
      "--sample-interval <duration>",
      "timeline sampling interval (reported time)",
      parseDurationMs,
      1000,
    )
    .option(
      "--request-timeout <duration>",
      "give up on a request after this (wall time)",
      parseDurationMs,
      600_000,
    )
    .option("--slo-ttft-ms <ms>", "SLO on time to first token", parsePositiveNumber, 2000)
    .option("--slo-tpot-ms <ms>", "SLO on time per output token", parsePositiveNumber, 50)
    .option(
      "--long-prompt-tokens <n>",
      "prompts this long count as long",
      parseNonNegativeInt,
      2048,
    )
    .option("--vllm <exe>", "vllm executable (name on PATH or a path)", "vllm")
    .option(
      "--vllm-arg <arg>",
      "extra argument for every vllm serve (repeatable)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      "--base-port <port>",
      "first engine port when launching vLLM",
      parseNonNegativeInt,
      8100,
    )
    .option(
      "--launch-timeout <duration>",
      "how long launched engines may take to be healthy",
      parseDurationMs,
      900_000,
    )
    .option("--out <dir>", "where run directories go", "artifacts/runs")
    .option("--run-id <id>", "run directory name (default: timestamp)")
    .option("--no-artifacts", "write nothing, print results only")
    .option("--json", "print the results as JSON instead of tables")
    .action(async (opts) => {
      const modes = [opts.target, opts.engines, opts.model].filter((x) => x !== undefined).length;
      if (modes !== 1) {
        throw new CliError("say what to drive with exactly one of --target, --engines or --model");
      }
      if (opts.target && (opts.layouts || opts.policies)) {
        throw new CliError(
          "--layouts and --policies need --engines or --model (a router started here)",
        );
      }
      // Defaults, then a simulation config file, then flags: as `pdroute simulate` resolves them.
      let sim: SimConfig;
      let workload;
      try {
        const file = opts.simConfig
          ? await readJson(opts.simConfig, "simulation config")
          : undefined;
        const fileWorkload = (file as { workload?: { kind?: string; name?: string } } | undefined)
          ?.workload;
        const flagWorkload = workloadFromFlags(
          opts,
          fileWorkload?.kind === "preset" ? fileWorkload.name : undefined,
        );
        sim = resolveSimConfig(file, {
          ...(flagWorkload && { workload: flagWorkload }),
          ...(opts.seed !== undefined && { seed: opts.seed }),
          ...(opts.longPromptTokens !== undefined && { longPromptTokens: opts.longPromptTokens }),
          slo: {
            ...(opts.sloTtftMs !== undefined && { ttftMs: opts.sloTtftMs }),
            ...(opts.sloTpotMs !== undefined && { tpotMs: opts.sloTpotMs }),
          },
        });
        workload = resolveWorkload(sim.workload, sim.seed);
      } catch (e) {
        if (e instanceof WorkloadError || e instanceof SimConfigError) {
          throw new CliError(e.message);
        }
        if (e instanceof CliError) throw e;
        throw new CliError((e as Error).message);
      }
      const runId = opts.runId ??
        new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
      const root = opts.artifacts ? `${opts.out}/${runId}` : null;
      const gpu = GPU_PRESETS[opts.engineGpu.toLowerCase()];
      if (!gpu) {
        throw new CliError(
          `--engine-gpu: unknown GPU '${opts.engineGpu}'; known: ${
            Object.keys(GPU_PRESETS).join(", ")
          }`,
        );
      }
      let launched: Launched | null = null;
      let engines: { url: string; gpu: number }[] | null = null;
      let prefillCount = opts.prefillCount;
      let modelName = opts.servedModelName;
      if (opts.model) {
        const prefill = opts.prefillGpus ?? [];
        const decode = opts.decodeGpus ?? [];
        const all = [...prefill, ...decode];
        if (all.length === 0) {
          throw new CliError("--model needs --prefill-gpus and/or --decode-gpus");
        }
        if (new Set(all).size !== all.length) {
          throw new CliError(
            `a GPU is listed twice in --prefill-gpus/--decode-gpus: ${all.join(",")}`,
          );
        }
        try {
          launched = await launchEngines({
            model: opts.model,
            gpus: all,
            basePort: opts.basePort,
            sideChannelBasePort: 5600,
            host: "127.0.0.1",
            vllm: opts.vllm,
            extraArgs: opts.vllmArg ?? [],
            healthTimeoutMs: opts.launchTimeout,
            logDir: `${root ?? Deno.makeTempDirSync({ prefix: "pdroute-vllm-" })}/engines`,
          });
        } catch (e) {
          if (e instanceof LaunchError) throw new CliError(e.message, 1);
          throw e;
        }
        engines = launched.engines.map((e) => ({ url: e.url, gpu: e.gpu }));
        prefillCount = prefill.length;
        modelName ??= opts.model;
        for (const e of launched.engines) {
          console.error(`pdroute drive: vllm on GPU ${e.gpu} at ${e.url} (log ${e.log})`);
        }
      } else if (opts.engines) {
        engines = opts.engines.map((url, i) => ({ url: url.replace(/\/+$/, ""), gpu: i }));
      }
      try {
        const probeUrl = opts.target ?? engines![0].url;
        modelName ??= await firstModel(probeUrl);
        const drive: Omit<DriveOptions, "label" | "target" | "dir"> = {
          workload,
          seed: sim.seed,
          api: opts.api,
          model: modelName,
          stream: opts.stream,
          mode: opts.concurrency !== undefined
            ? { kind: "closed", concurrency: Math.max(1, opts.concurrency) }
            : { kind: "open" },
          timeScale: opts.timeScale,
          prefixBlockTokens: 512,
          sampleIntervalMs: opts.sampleInterval,
          requestTimeoutMs: opts.requestTimeout,
          sloTtftMs: sim.slo.ttftMs,
          sloTpotMs: sim.slo.tpotMs,
          longPromptTokens: sim.longPromptTokens,
          gpusPerEngine: opts.tp,
          gpuCostPerHour: gpu.costPerHour,
          describe: { workloadSpec: workload.name, runId },
        };
        let results: { label: string; result: DriveResult; dir: string | null }[];
        if (opts.target) {
          const target = await discoverTarget(opts.target);
          const dir = root ? `${root}/live` : null;
          results = [{
            label: "live",
            result: await runDrive({ ...drive, label: "live", target, dir }),
            dir,
          }];
        } else {
          let routerBase: RouterConfigInput = {};
          if (opts.routerConfig) {
            routerBase = await readJson(opts.routerConfig, "router config") as RouterConfigInput;
          }
          routerBase = {
            ...routerBase,
            model: routerBase.model ?? opts.engineModel,
            gpu: routerBase.gpu ?? opts.engineGpu,
            tensorParallel: routerBase.tensorParallel ?? opts.tp,
            engineSpeed: routerBase.engineSpeed ?? opts.timeScale,
          };
          const layouts: Layout[] = opts.layouts ??
            (opts.model && prefillCount > 0 ? ["dual"] : ["shared"]);
          const policies: PolicyName[] = opts.policies ?? ["predictive"];
          const runs = await runFleetComparison(
            fleetRuns(layouts, policies),
            engines!,
            prefillCount,
            routerBase,
            drive,
            root,
          );
          results = runs.map((r) => ({ label: r.run.label, result: r.result, dir: r.dir }));
        }
        if (root) {
          writeJson(`${root}/runs.json`, results.map((r) => ({ label: r.label, dir: r.dir })));
        }
        report(results, opts.json === true, root);
      } catch (e) {
        if (
          e instanceof RouterConfigError || e instanceof EngineModelError ||
          e instanceof TraceError || e instanceof WorkloadError
        ) {
          throw new CliError(e.message);
        }
        if (e instanceof CliError) throw e;
        throw new CliError((e as Error).message, 1);
      } finally {
        await launched?.stop();
      }
    });
}

async function firstModel(url: string): Promise<string> {
  try {
    const res = await fetch(`${url}/v1/models`, { signal: AbortSignal.timeout(5000) });
    const body = await res.json() as { data?: { id?: string }[] };
    const id = body.data?.[0]?.id;
    if (typeof id === "string") return id;
  } catch (e) {
    throw new CliError(`cannot read ${url}/v1/models: ${(e as Error).message}`, 1);
  }
  throw new CliError(`${url}/v1/models lists no model; give --served-model-name`, 1);
}

function report(
  results: { label: string; result: DriveResult; dir: string | null }[],
  json: boolean,
  root: string | null,
): void {
  if (json) {
    console.log(JSON.stringify(
      {
        dir: root,
        runs: results.map((r) => ({
          label: r.label,
          dir: r.dir,
          wallMs: Math.round(r.result.wallMs),
          errors: r.result.errors,
          failedScrapes: r.result.failedScrapes,
          summary: r.result.summary,
        })),
      },
      null,
      2,
    ));
    return;
  }
  const runs = results.map((r) => ({ label: r.label, summary: r.result.summary }));
  const s = runs[0].summary;
  console.log(
    `pdroute drive: ${s.run.workload}, ${s.requests.total} requests, ${s.run.gpus} GPUs, ` +
      `seed ${s.run.seed}`,
  );
  console.log(comparisonTable(runs));
  console.log(poolTable(runs));
  console.log(gpuTable(runs));
  for (const r of results) {
    const errs = Object.entries(r.result.errors);
    const total = r.result.summary.requests;
    console.log(
      `${r.label}: ${total.completed} ok, ${total.shed} shed, ${total.rejected} rejected, ` +
        `${total.failed} failed; wall ${(r.result.wallMs / 1000).toFixed(1)} s` +
        (r.result.failedScrapes > 0 ? `; ${r.result.failedScrapes} engine samples failed` : ""),
    );
    for (const [msg, n] of errs) console.log(`  ${n} x ${msg}`);
  }
  if (root) console.log(`artifacts: ${root}/ (${results.map((r) => r.label).join(", ")})`);
}
