/**
 * The live router's configuration: where it listens, the engines behind it (URL and role),
 * what each engine is (model and GPU presets for its predicted rates, optionally overridden
 * per endpoint), the policy, and the telemetry, health, retry and shedding knobs. A JSON file
 * and CLI flags override the defaults; `resolveRouterConfig` validates the result with errors
 * naming the field and value.
 */
import { z } from "zod";
import { formatSchemaError, mergeObjects } from "../core/config.ts";
import { efficiencySchema } from "../engine_model/efficiency.ts";
import { gpuSpecSchema } from "../engine_model/hardware.ts";
import { modelSpecSchema } from "../engine_model/models.ts";
import { DEFAULT_ENGINE_OPTIONS, engineOptionsSchema } from "../engine_model/setup.ts";
import { syncConfigSchema } from "./sync/sync_config.ts";
import { DEFAULT_KV_CONFIG, kvConfigSchema } from "./kv_config.ts";

const ms = z.number().min(0);

/** Optional per-endpoint overrides of the rates derived from the model and GPU presets. */
const specOverrideSchema = z.object({
  prefillTokensPerMs: z.number().gt(0),
  decodeBaseMs: z.number().min(0),
  decodeMsPerKvBlock: z.number().min(0),
  decodeMsPerSeq: z.number().min(0),
  kvCapacityBlocks: z.number().min(1),
  slabMsPerBlock: z.number().min(0),
  costPerHour: z.number().min(0),
}).partial().strict();

export const endpointConfigSchema = z.object({
  /** Base URL of the engine, e.g. http://127.0.0.1:8101 (no path). */
  url: z.string().url().refine((u) => /^https?:\/\//.test(u), "must be an http(s) URL"),
  role: z.enum(["prefill", "decode", "both"]),
  /** GPU index (reports, and placement with a topology file); default: the endpoint's index. */
  gpu: z.number().int().min(0).optional(),
  hostId: z.number().int().min(0).optional(),
  numaNode: z.number().int().min(0).optional(),
  nvlinkDomain: z.number().int().min(-1).optional(),
  spec: specOverrideSchema.optional(),
}).strict();

export type EndpointConfig = z.infer<typeof endpointConfigSchema>;

export { type SyncConfig, syncConfigSchema } from "./sync/sync_config.ts";

export const routerConfigSchema = z.object({
  host: z.string().min(1),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65535),
  endpoints: z.array(endpointConfigSchema).min(1),
  /** What the engines run: presets (or full specs) that give each endpoint's predicted rates. */
  model: z.union([z.string(), modelSpecSchema]),
  gpu: z.union([z.string(), gpuSpecSchema]),
  efficiency: efficiencySchema.optional(),
  tensorParallel: z.number().int().min(1).max(64),
  engine: engineOptionsSchema,
  /** The engines run this many times faster than the model says (emulators with --speed). */
  engineSpeed: z.number().gt(0).max(1000),
  /** A topology document (pdroute topology) placing the endpoints' GPUs. */
  topology: z.string().optional(),
  /** The policy (src/core/config.ts); `policy.policy` and `policy.disaggregation` included. */
  policy: z.record(z.string(), z.unknown()),
  /** Which scoring core decides; identical decisions either way. */
  implementation: z.enum(["wasm", "reference"]),
  /** Seed of the tie-break draws. */
  seed: z.number().int().min(0).max(0xffffffff),
  /**
   * Output tokens the policy assumes: the running mean of finished requests, capped by the
   * request's max_tokens ("capped-mean"), or the running mean alone ("running-mean", what the
   * simulator's router does; for sim-to-real comparisons).
   */
  outputEstimate: z.enum(["capped-mean", "running-mean"]),
  /** Output tokens assumed before any request completed. */
  outputPriorTokens: z.number().gt(0),
  /** Weight of the newest sample in the per-endpoint observed/predicted TTFT and TPOT averages. */
  ewmaAlpha: z.number().gt(0).max(1),
  telemetry: z.object({
    /** How often each engine's /metrics is scraped (0: never; in-router accounting only). */
    scrapeIntervalMs: ms,
    /** Scraped load older than this is not trusted (dropped until a fresh scrape). */
    staleAfterMs: z.number().gt(0),
    scrapeTimeoutMs: z.number().gt(0),
  }).strict(),
  health: z.object({
    /** How often every endpoint's /health is probed. */
    probeIntervalMs: z.number().gt(0),
    probeTimeoutMs: z.number().gt(0),
    /** Consecutive failures (errors, timeouts, 5xx) that mark an endpoint unhealthy. */
    unhealthyAfter: z.number().int().min(1),
  }).strict(),
  limits: z.object({
    /** Request bodies larger than this are refused with 413. */
    maxBodyBytes: z.number().int().min(1024),
    /** A request body must arrive whole within this, else 408. */
    bodyTimeoutMs: z.number().gt(0),
    /** Tries per request on different endpoints while nothing was sent to the client. */
    maxAttempts: z.number().int().min(1).max(16),
    /** An engine must answer (prefill: its JSON; decode: the first chunk) within this. */
    firstByteTimeoutMs: z.number().gt(0),
    /**
     * A non-streaming answer (which arrives whole: its first byte is its last) must arrive
     * within this; absent: `firstByteTimeoutMs`.
     */
    responseTimeoutMs: z.number().gt(0).optional(),
    /** Whole-request limit. */
    requestTimeoutMs: z.number().gt(0),
    /** With no capacity a request waits at the router this long, then is shed (503). */
    queueTimeoutMs: ms,
    /** At most this many requests wait at the router; more are shed at once. */
    maxQueued: z.number().int().min(0),
    /** Retry-After (seconds) sent with 503 sheds. */
    retryAfterSeconds: z.number().int().min(0),
  }).strict(),
  /**
   * How streams are relayed. "inspect" (default): chunk by chunk through the router, headers
   * held until the first chunk (failures before any output are retried elsewhere), cut streams
   * end with an SSE error event, TTFT/TPOT measured. "passthrough": the runtime pipes the
   * engine's body straight to the client (less CPU per token); retries only before the
   * engine's headers, a cut stream is a broken connection, TTFT/TPOT only from scraping.
   */
  relay: z.enum(["inspect", "passthrough"]),
  /** How often the migration planner runs (only predictive policy with a migration budget). */
  migrationIntervalMs: z.number().gt(0),
  /** Replica sync over NATS (src/router/sync/; docs/ROUTER.md "Running several replicas"). */
  sync: syncConfigSchema.optional(),
  /** Precise KV awareness from the engines' KV events (src/router/kv_config.ts). */
  kv: kvConfigSchema,
}).strict();

export type RouterConfig = z.infer<typeof routerConfigSchema>;

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K]
    : T[K] extends object ? DeepPartial<T[K]>
    : T[K];
};
export type RouterConfigInput = DeepPartial<RouterConfig>;

export const DEFAULT_ROUTER_CONFIG: Omit<RouterConfig, "endpoints"> = {
  host: "127.0.0.1",
  port: 8000,
  model: "llama-3-8b",
  gpu: "h100",
  tensorParallel: 1,
  engine: DEFAULT_ENGINE_OPTIONS,
  engineSpeed: 1,
  policy: {},
  implementation: "wasm",
  seed: 1,
  outputEstimate: "capped-mean",
  outputPriorTokens: 256,
  ewmaAlpha: 0.2,
  telemetry: { scrapeIntervalMs: 200, staleAfterMs: 1000, scrapeTimeoutMs: 500 },
  health: { probeIntervalMs: 1000, probeTimeoutMs: 1000, unhealthyAfter: 1 },
  limits: {
    maxBodyBytes: 4 * 1024 * 1024,
    bodyTimeoutMs: 30_000,
    maxAttempts: 3,
    firstByteTimeoutMs: 60_000,
    requestTimeoutMs: 600_000,
    queueTimeoutMs: 10_000,
    maxQueued: 1024,
    retryAfterSeconds: 1,
  },
  relay: "inspect",
  migrationIntervalMs: 250,
  kv: DEFAULT_KV_CONFIG,
};

export class RouterConfigError extends Error {
  override name = "RouterConfigError";
}

/** Defaults, then each layer in order (a config file, then flags). */
export function resolveRouterConfig(...layers: unknown[]): RouterConfig {
  let merged: unknown = DEFAULT_ROUTER_CONFIG;
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (typeof layer !== "object" || layer === null || Array.isArray(layer)) {
      throw new RouterConfigError(
        `Invalid router config: expected an object: current value is ${JSON.stringify(layer)}`,
      );
    }
    merged = mergeObjects(merged, layer);
  }
  const parsed = routerConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const text = formatSchemaError("router config", parsed.error, merged);
    throw new RouterConfigError(
      parsed.error.issues[0].path[0] === "endpoints" && !("endpoints" in (merged as object))
        ? "Invalid router config: no endpoints; give --prefill/--decode/--both URLs, " +
          "--endpoint url=...,role=..., or 'endpoints' in --config"
        : text,
    );
  }
  const urls = parsed.data.endpoints.map((e) => e.url.replace(/\/+$/, ""));
  const dup = urls.find((u, i) => urls.indexOf(u) !== i);
  if (dup) {
    throw new RouterConfigError(`Invalid router config: endpoint ${dup} is listed twice`);
  }
  return parsed.data;
}
