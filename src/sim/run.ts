/**
 * Runs one comparison: the same fleet and workload under several policies (by default the
 * baseline, round robin, and the optimized one, predictive), each into its own run directory:
 *
 *   <out>/<run-id>/config.json           the resolved simulation config
 *   <out>/<run-id>/<label>/summary.json  per policy: results (see RunSummary)
 *   <out>/<run-id>/<label>/requests.csv  per request
 *   <out>/<run-id>/<label>/timeline.csv  per GPU and cluster over time
 *   <out>/<run-id>/<label>/config.json   the policy config that run used
 */
import { type PolicyConfig, resolvePolicyConfig } from "../core/config.ts";
import { policyInfo, type PolicyName } from "../core/policies.ts";
import { PolicyInputError } from "../core/errors.ts";
import { loadPlacement } from "../topology/mod.ts";
import { writeJson } from "../io/json_file.ts";
import { LineWriter } from "../io/line_writer.ts";
import { type SimConfig, SimConfigError } from "./config.ts";
import { buildFleet, type Fleet, type GpuPlacement } from "./fleet.ts";
import {
  REQUEST_CSV_HEADER,
  type RunSummary,
  TIMELINE_CSV_HEADER,
} from "../metrics/run_metrics.ts";
import { Simulation } from "./simulation.ts";
import type { RequestSource } from "../workload/request.ts";
import { openNonEmpty, type ResolvedWorkload, resolveWorkload } from "../workload/resolve.ts";
import { routerBlockTokens } from "./prefix_knowledge.ts";

export type Mode = "baseline" | "optimized" | "both";

/** One policy of a comparison and the label its run directory and results carry. */
export interface PolicyChoice {
  readonly label: string;
  readonly policy: PolicyName;
}

/** `--mode`: baseline is round robin, optimized the predictive policy, both is both. */
export function choicesForMode(mode: Mode): PolicyChoice[] {
  const baseline = { label: "baseline", policy: "round-robin" } as const;
  const optimized = { label: "optimized", policy: "predictive" } as const;
  return mode === "both" ? [baseline, optimized] : [mode === "baseline" ? baseline : optimized];
}

/** `--policies a,b,c`: each run labelled by its policy's name. */
export function choicesForPolicies(names: readonly PolicyName[]): PolicyChoice[] {
  return names.map((policy) => ({ label: policy, policy }));
}

export interface PolicyRun {
  readonly label: string;
  readonly policy: PolicyName;
  readonly summary: RunSummary;
  readonly dir: string | null;
  readonly wallMs: number;
}

export interface ComparisonOptions {
  /** Which policies run, in order (the first is the baseline of the comparison)... */
  readonly policies?: readonly PolicyChoice[];
  /** ... or the `--mode` shorthand (default both). */
  readonly mode?: Mode;
  /** Parent of the run directory; null writes nothing but returns summaries. */
  readonly outDir: string | null;
  readonly runId: string;
  readonly placements?: (gpu: number) => GpuPlacement;
  /** Replaces the config's workload (scenarios that build their own request list). */
  readonly workload?: ResolvedWorkload;
  readonly onProgress?: (label: string, simulatedMs: number, completed: number) => void;
  /**
   * Runs the policies on up to this many worker threads at once (src/sim/parallel.ts; default
   * 1, in this thread). Results are the same either way. Ignored with `placements` or
   * `workload`, which cannot cross to a worker.
   */
  readonly jobs?: number;
}

/** The layout's disaggregation mode. */
export function layoutDisaggregation(layout: SimConfig["layout"]) {
  return layout === "shared" ? "never" : layout === "dual" ? "always" : "conditional";
}

/**
 * The config `policy` runs with: its overrides from `config.policy[policy]`, the layout's
 * disaggregation and the fleet's physics.
 */
export function policyFor(policy: PolicyName, config: SimConfig, fleet: Fleet): PolicyConfig {
  const disaggregation = layoutDisaggregation(config.layout);
  const overrides = { ...(config.policy[policy] ?? {}) };
  if (overrides.disaggregation !== undefined && overrides.disaggregation !== disaggregation) {
    throw new SimConfigError(
      `Invalid simulation config: 'policy.${policy}.disaggregation' is set by 'layout' (${config.layout} -> ${disaggregation}): current value is ${
        JSON.stringify(overrides.disaggregation)
      }`,
    );
  }
  try {
    // A policy that takes the objective as SLOs gets the run's SLOs (goodput's) by default.
    const slo = "slo" in policyInfo(policy).defaults
      ? { slo: { ttftMs: config.slo.ttftMs, tpotMs: config.slo.tpotMs, ...(overrides.slo ?? {}) } }
      : {};
    return resolvePolicyConfig({
      ...overrides,
      ...slo,
      policy,
      disaggregation,
      kvBlockTokens: fleet.kvBlockTokens,
      prefixBlockTokens: routerBlockTokens(config),
      kvBytesPerToken: fleet.time.kvBytesPerToken,
      links: config.links,
    } as never);
  } catch (e) {
    if (e instanceof PolicyInputError) {
      throw new SimConfigError(e.message.replace("policy config:", `'policy.${policy}':`));
    }
    throw e;
  }
}

/**
 * With `config.topology`, places each GPU by the topology document (host, NUMA node, NVLink
 * domain, slab distance) and takes the link costs from it; otherwise all pairs are equal.
 */
export async function placeByTopology(
  config: SimConfig,
): Promise<{ config: SimConfig; placements?: (gpu: number) => GpuPlacement }> {
  if (config.topology === undefined) return { config };
  const gpus = buildFleet(config).members.map((m) => m.gpu);
  const placement = await loadPlacement(config.topology, gpus);
  const byGpu = new Map(gpus.map((gpu, i) => [gpu, placement.endpoints[i]]));
  return {
    config: { ...config, links: placement.links },
    placements: (gpu) => {
      const p = byGpu.get(gpu)!;
      return {
        hostId: p.hostId,
        numaNode: p.numaNode,
        nvlinkDomain: p.nvlinkDomain,
        slabDistanceFactor: p.slabScale,
      };
    },
  };
}

export async function runComparison(
  given: SimConfig,
  options: ComparisonOptions,
): Promise<PolicyRun[]> {
  const placed = options.placements
    ? { config: given, placements: options.placements }
    : await placeByTopology(given);
  const config = placed.config;
  const fleet = buildFleet(config, placed.placements);
  const workload = options.workload ?? resolveWorkload(config.workload, config.seed);
  // An empty workload fails here, before the run directory exists.
  let firstSource: RequestSource | null = await openNonEmpty(workload);
  const root = options.outDir === null ? null : `${options.outDir}/${options.runId}`;
  if (root) {
    Deno.mkdirSync(root, { recursive: true });
    writeJson(`${root}/config.json`, config);
  }
  const choices = options.policies ?? choicesForMode(options.mode ?? "both");
  const jobs = Math.min(options.jobs ?? 1, choices.length);
  if (jobs > 1 && !options.placements && !options.workload) {
    // Each worker places, builds and replays on its own: the same inputs, so the same results.
    const { runSpecs } = await import("./parallel.ts");
    const specs = choices.map((choice) => ({
      config: given,
      choice,
      dir: root ? `${root}/${choice.label}` : null,
    }));
    return await runSpecs(specs, {
      jobs,
      onProgress: (i: number, ms: number, done: number) =>
        options.onProgress?.(choices[i].label, ms, done),
    });
  }
  const runs: PolicyRun[] = [];
  for (const choice of choices) {
    const dir = root ? `${root}/${choice.label}` : null;
    runs.push(
      await runPolicy(config, fleet, workload, choice, dir, options.onProgress, firstSource),
    );
    firstSource = null;
  }
  return runs;
}

/** One policy on a placed fleet and workload, into `dir` (null: nothing written). */
export async function runPolicy(
  config: SimConfig,
  fleet: Fleet,
  workload: ResolvedWorkload,
  { label, policy: name }: PolicyChoice,
  dir: string | null,
  onProgress?: (label: string, simulatedMs: number, completed: number) => void,
  /** An already opened source of `workload` (replayed instead of opening a new one). */
  opened: RequestSource | null = null,
): Promise<PolicyRun> {
  const policy = policyFor(name, config, fleet);
  let requestsCsv: LineWriter | undefined, timelineCsv: LineWriter | undefined;
  if (dir) {
    Deno.mkdirSync(dir, { recursive: true });
    writeJson(`${dir}/config.json`, { simulation: config, policy });
    requestsCsv = new LineWriter(`${dir}/requests.csv`);
    requestsCsv.write(REQUEST_CSV_HEADER);
    timelineCsv = new LineWriter(`${dir}/timeline.csv`);
    timelineCsv.write(TIMELINE_CSV_HEADER);
  }
  const started = performance.now();
  try {
    const summary = await new Simulation({
      label,
      config,
      fleet,
      policy,
      source: opened ?? workload.open(),
      workloadName: workload.name,
      requestsCsv,
      timelineCsv,
      onProgress: (ms, done) => onProgress?.(label, ms, done),
    }).execute();
    if (dir) writeJson(`${dir}/summary.json`, summary);
    return { label, policy: name, summary, dir, wallMs: performance.now() - started };
  } finally {
    requestsCsv?.close();
    timelineCsv?.close();
  }
}
