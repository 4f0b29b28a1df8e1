/**
 * The simulation's configuration: fleet, engine, router, workload, SLOs and the policy.
 * Everything has a documented default (`DEFAULT_SIM_CONFIG`); a JSON config file and CLI flags
 * override it; `resolveSimConfig` validates the merged result with errors that name the field
 * and the value. The resolved config is written next to every run's results.
 */
import { z } from "zod";
import { DEFAULT_POLICY_CONFIG, formatSchemaError } from "../core/config.ts";
import { isPolicyName, POLICY_NAMES } from "../core/policies.ts";
import { efficiencySchema } from "../engine_model/efficiency.ts";
import { gpuSpecSchema } from "../engine_model/hardware.ts";
import { modelSpecSchema } from "../engine_model/models.ts";
import { DEFAULT_ENGINE_OPTIONS, engineOptionsSchema } from "../engine_model/setup.ts";
import { workloadSpecSchema } from "../workload/resolve.ts";

/** A GPU count, or explicit GPU indexes (which matter with a topology file). */
const gpuSetSchema = z.union([
  z.number().int().min(0).max(4096),
  z.array(z.number().int().min(0).max(65535)).max(4096),
]);

const linkSchema = z.object({ gbps: z.number().gt(0), latencyMs: z.number().min(0) }).strict();

export const simConfigSchema = z.object({
  seed: z.number().int().min(0).max(0xffffffff),
  /** A model preset name (llama-3-8b, llama-3-70b, llama-2-70b) or a full model spec. */
  model: z.union([z.string(), modelSpecSchema]),
  /** A GPU preset name (a100, h100, h200, b200) or a full GPU spec. */
  gpu: z.union([z.string(), gpuSpecSchema]),
  /** Overrides the GPU preset's calibrated efficiency. */
  efficiency: efficiencySchema.optional(),
  /** GPUs per engine instance; "GPU" counts below count instances. */
  tensorParallel: z.number().int().min(1).max(64),
  /** shared: every GPU prefills and decodes; dual: dedicated pools; conditional: decided per request. */
  layout: z.enum(["shared", "dual", "conditional"]),
  /** The shared pool (layout shared). */
  gpus: gpuSetSchema,
  /** The prefill and decode pools (layouts dual and conditional). */
  prefillGpus: gpuSetSchema,
  decodeGpus: gpuSetSchema,
  /** A topology document (pdroute topology) placing the GPUs; default: all pairs equal. */
  topology: z.string().optional(),
  links: z.object({
    nvlink: linkSchema,
    pcie: linkSchema,
    crossNuma: linkSchema,
    network: linkSchema,
  }).strict(),
  /**
   * vLLM-style engine options (src/engine_model/setup.ts) and the engines' prefix-cache block
   * size in tokens (a divisor of the workloads' 512-token prefix blocks; vLLM's is 16).
   */
  engine: engineOptionsSchema.extend({
    prefixBlockTokens: z.number().int().refine((n) => n >= 1 && 512 % n === 0, {
      message: "must divide 512 (1, 2, 4, 8, 16, 32, 64, 128, 256 or 512)",
    }),
  }).strict(),
  router: z.object({
    /** Which implementation of the scoring core decides. Identical decisions either way. */
    implementation: z.enum(["wasm", "reference"]),
    /** Output length the router assumes: a running mean of completed requests, or the truth. */
    outputEstimate: z.enum(["running-mean", "oracle"]),
    /** Assumed output tokens before any request has completed. */
    outputPriorTokens: z.number().gt(0),
    /** Smoothing of the observed/predicted TTFT and TPOT ratios per endpoint (newest sample's weight). */
    ewmaAlpha: z.number().gt(0).max(1),
    /** How often the migration planner runs (simulated ms). */
    migrationIntervalMs: z.number().gt(0),
    /** Router-to-engine hop added to every dispatch. */
    dispatchLatencyMs: z.number().min(0),
    /** Requests with no capacity wait at the router this long, then are shed (503). */
    queueTimeoutMs: z.number().min(0),
    /**
     * How often the router scrapes every engine's metrics (waiting, running, KV usage), for
     * the policies that read them (llm-d refreshes every 50 ms by default).
     */
    scrapeIntervalMs: z.number().gt(0),
    /**
     * What the router knows of the engines' prefix caches (docs/SIMULATOR.md): "precise", their
     * real contents at the engine's block size, evictions included, as from vLLM's KV events
     * (`kvEventDelayMs` late); "approximate", what the live router does without KV events: a
     * mirror of the full 512-token blocks it routed, recorded at prefill completion in its own
     * LRU as large as an engine's prefix cache, never told of evictions.
     */
    prefixKnowledge: z.enum(["precise", "approximate"]),
    /** With precise knowledge: how late an engine's KV event reaches the router (ms). */
    kvEventDelayMs: z.number().min(0).max(3_600_000),
    /** Router replicas, each with its own view of load and prefixes (1: one router). */
    replicas: z.number().int().min(1).max(64),
    /**
     * How late each replica sees the others' dispatches, finishes and prefix-mirror updates
     * (ms); null or "none": never (no sync).
     */
    syncDelayMs: z.preprocess(
      (v) => v === "none" ? null : v,
      z.number().min(0).max(3_600_000).nullable(),
    ),
    /**
     * How requests spread over replicas: "round-robin" in arrival order, or "session": by a
     * hash of the request's first two prefix blocks (its conversation or shared system prompt:
     * the workloads carry no client id), round robin for requests with none.
     */
    replicaSpread: z.enum(["round-robin", "session"]),
  }).strict(),
  /**
   * Config overrides per policy name (src/core/policies.ts), e.g.
   * `{ "predictive": { "migration": { "budget": 0 } }, "llm-d": { "weights": { "prefix": 3 } } }`.
   * Each is validated against that policy's own schema when it runs; disaggregation follows
   * `layout`, and the fleet facts (block sizes, KV bytes, links) come from the fleet.
   */
  policy: z.record(
    z.string().refine((name): boolean => isPolicyName(name), {
      message: `must name a policy (${POLICY_NAMES.join(", ")})`,
    }),
    z.record(z.string(), z.unknown()),
  ),
  /** The workload (src/workload/resolve.ts): a preset with overrides, a synthetic spec or a trace. */
  workload: workloadSpecSchema,
  slo: z.object({ ttftMs: z.number().gt(0), tpotMs: z.number().gt(0) }).strict(),
  /** Prompts at least this long count as "long" in per-class TTFT. */
  longPromptTokens: z.number().int().min(1),
  timeline: z.object({ intervalMs: z.number().gt(0) }).strict(),
}).strict();

export type SimConfig = z.infer<typeof simConfigSchema>;

export const DEFAULT_SIM_CONFIG: SimConfig = {
  seed: 1,
  model: "llama-3-8b",
  gpu: "h100",
  tensorParallel: 1,
  layout: "conditional",
  gpus: 8,
  prefillGpus: 2,
  decodeGpus: 4,
  // The same link costs the policy assumes by default (a topology document replaces both).
  links: DEFAULT_POLICY_CONFIG.links,
  engine: { ...DEFAULT_ENGINE_OPTIONS, prefixBlockTokens: 512 },
  router: {
    implementation: "wasm",
    outputEstimate: "running-mean",
    outputPriorTokens: 256,
    ewmaAlpha: 0.2,
    migrationIntervalMs: 250,
    dispatchLatencyMs: 0.2,
    queueTimeoutMs: 30000,
    scrapeIntervalMs: 50,
    prefixKnowledge: "precise",
    kvEventDelayMs: 0,
    replicas: 1,
    syncDelayMs: 0,
    replicaSpread: "round-robin",
  },
  policy: {},
  workload: { kind: "preset", name: "chat", overrides: {} },
  slo: { ttftMs: 2000, tpotMs: 50 },
  longPromptTokens: 2048,
  timeline: { intervalMs: 1000 },
};

export class SimConfigError extends Error {
  override name = "SimConfigError";
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge where objects merge and everything else (arrays included) replaces. */
export function mergeConfig(base: unknown, override: unknown): unknown {
  if (!isObject(base) || !isObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = mergeConfig(base[k], v);
  return out;
}

export function resolveSimConfig(...layers: unknown[]): SimConfig {
  let merged: unknown = DEFAULT_SIM_CONFIG;
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (!isObject(layer)) {
      throw new SimConfigError(
        `Invalid simulation config: expected an object: current value is ${JSON.stringify(layer)}`,
      );
    }
    // A workload given whole replaces the default one rather than merging into it.
    const { workload, ...rest } = layer;
    merged = mergeConfig(merged, rest);
    if (workload !== undefined) (merged as Record<string, unknown>).workload = workload;
  }
  const parsed = simConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new SimConfigError(formatSchemaError("simulation config", parsed.error, merged));
  }
  return parsed.data;
}
