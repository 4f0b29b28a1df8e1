/**
 * Policy configuration: every weight, threshold and budget, with its default and why.
 *
 * `resolvePolicyConfig` merges a partial config over the defaults and validates it (zod,
 * strict: unknown keys are typos, not silently ignored). `encodeConfig` flattens the result
 * into the f64 config region both implementations read, deriving per-token transfer costs
 * once so the reference and the WASM core see identical doubles.
 */
import { z } from "zod";
import { Cfg, Disaggregation, PolicyKind } from "./abi.ts";
import { describeValue, PolicyInputError } from "./errors.ts";

const nonNegative = z.number().min(0);
const positive = z.number().gt(0);
const link = z.object({ gbps: positive, latencyMs: nonNegative }).strict();

export const policyConfigSchema = z.object({
  /** `round-robin` is the baseline; `predictive` scores every candidate in predicted ms. */
  policy: z.enum(["round-robin", "predictive"]),
  /**
   * `never`: prefill and decode on one endpoint (shared pool). `always`: prefill on the
   * prefill pool, decode on the decode pool (dual pools). `conditional`: decide per request.
   */
  disaggregation: z.enum(["never", "always", "conditional"]),
  /** Tokens per KV-cache block (vLLM's default block size is 16). */
  kvBlockTokens: z.number().int().min(1).max(4096),
  /** Tokens per prefix-hash block used for KV locality (Mooncake traces use 512). */
  prefixBlockTokens: z.number().int().min(1).max(1 << 20),
  /** KV bytes per token: 2 * layers * kv_heads * head_dim * dtype bytes (Llama-3-8B bf16: 131072). */
  kvBytesPerToken: positive,
  /** Under `conditional`, prompts with fewer uncached tokens prefill on their decode endpoint. */
  localPrefillMaxTokens: nonNegative,
  /** A prefill endpoint with more queued prompt tokens takes no new work (spillover trigger). */
  prefillQueueLimitTokens: nonNegative,
  /** A decode endpoint beyond this fraction of its KV capacity takes no new work (except via its host slab). */
  decodeKvUsageLimit: z.number().gt(0).max(1),
  /** Under `always`, prefill locally on the decode endpoint when no prefill endpoint is eligible. */
  allowSpillover: z.boolean(),
  /**
   * How much of a fresh observed/predicted TTFT ratio r to apply: the prefill time is scaled by
   * 1 + w * (r - 1) (0: ignore observations, 1: trust them fully).
   */
  ttftObservedWeight: z.number().min(0).max(1),
  /** The same for the decode step and the observed/predicted TPOT ratio. */
  tpotObservedWeight: z.number().min(0).max(1),
  /** Observations older than this (in the caller's clock) are ignored. */
  telemetryMaxAgeMs: nonNegative,
  /** Candidates within max(tieWindowMs, tieWindowRelative * best) of the best cost are ties. */
  tieWindowMs: nonNegative,
  tieWindowRelative: z.number().min(0).max(1),
  /**
   * Weight of the delay a choice imposes on sequences already decoding on an endpoint (a local
   * prefill stalls them; extra KV slows their steps), relative to the request's own latency.
   * 1 minimises total latency (marginal cost); 0 scores the request's own latency only.
   */
  interferenceWeight: z.number().min(0).max(10),
  /** Exchange rate for an endpoint's hourly price, in ms of predicted latency per $/h (0: off). */
  costMsPerDollarHour: nonNegative,
  /**
   * 0: every stage scores its whole pool (exact). k > 0: a stage whose pool holds more than k
   * endpoints scores k of them, drawn from the host's draw, plus every endpoint with a prefix
   * hit (power-of-k choices, for large fleets; docs/POLICY.md, "Candidate sampling").
   */
  candidateSample: z.number().int().min(0).max(16384),
  /** KV transfer links, cheapest first; costs must not decrease along nvlink, pcie, crossNuma, network. */
  links: z.object({ nvlink: link, pcie: link, crossNuma: link, network: link }).strict(),
  migration: z.object({
    /** At most this many migrations in any window of `windowMs` (caller's clock). */
    budget: z.number().int().min(0).max(1 << 16),
    windowMs: positive,
    /** Migrate only when predicted benefit minus cost exceeds this many ms. */
    gapMs: nonNegative,
    /** Fixed cost of one migration (pause, re-admission), on top of the KV transfer. */
    overheadMs: nonNegative,
    /** Most moves one `planMigrations` call may return. */
    maxMovesPerPlan: z.number().int().min(0).max(1024),
  }).strict(),
}).strict();

export type PolicyConfig = z.infer<typeof policyConfigSchema>;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type PolicyConfigInput = DeepPartial<PolicyConfig>;

export const DEFAULT_POLICY_CONFIG: PolicyConfig = {
  policy: "predictive",
  disaggregation: "conditional",
  kvBlockTokens: 16,
  prefixBlockTokens: 512,
  kvBytesPerToken: 131072,
  localPrefillMaxTokens: 512,
  prefillQueueLimitTokens: 65536,
  decodeKvUsageLimit: 0.95,
  allowSpillover: true,
  ttftObservedWeight: 0.5,
  tpotObservedWeight: 1,
  telemetryMaxAgeMs: 1000,
  tieWindowMs: 1,
  tieWindowRelative: 0.01,
  interferenceWeight: 1,
  costMsPerDollarHour: 0,
  candidateSample: 0,
  links: {
    nvlink: { gbps: 300, latencyMs: 0.01 },
    pcie: { gbps: 25, latencyMs: 0.02 },
    crossNuma: { gbps: 16, latencyMs: 0.03 },
    network: { gbps: 12.5, latencyMs: 0.1 },
  },
  migration: { budget: 8, windowMs: 1000, gapMs: 50, overheadMs: 5, maxMovesPerPlan: 4 },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge: plain objects merge key by key; anything else (arrays included) replaces. */
export function mergeObjects(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) {
    return override === undefined ? base : override;
  }
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = mergeObjects(base[key], value);
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (Array.isArray(value) && typeof key === "number") value = value[key];
    else if (isPlainObject(value)) value = value[String(key)];
    else return undefined;
  }
  return value;
}

/** Turns the first zod issue into "Invalid X: 'a.b' <problem>: current value is V". */
export function formatSchemaError(what: string, error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const where = path === "" ? "" : ` in '${path}'`;
    return `Invalid ${what}: unknown field '${issue.keys[0]}'${where}`;
  }
  return `Invalid ${what}: '${path}' ${issue.message.toLowerCase()}: current value is ${
    describeValue(valueAt(input, issue.path))
  }`;
}

function checkLinkOrder(config: PolicyConfig): void {
  const order = ["nvlink", "pcie", "crossNuma", "network"] as const;
  for (let i = 1; i < order.length; i++) {
    const cheaper = config.links[order[i - 1]];
    const dearer = config.links[order[i]];
    if (dearer.gbps > cheaper.gbps || dearer.latencyMs < cheaper.latencyMs) {
      throw new PolicyInputError(
        `Invalid policy config: 'links.${order[i]}' must be no faster than 'links.${
          order[i - 1]
        }' (bandwidth not higher, latency not lower): current value is ${
          describeValue(dearer)
        } vs ${describeValue(cheaper)}`,
      );
    }
  }
}

/** Defaults + overrides, validated. Throws `PolicyInputError` naming the field and value. */
export function resolvePolicyConfig(input: PolicyConfigInput = {}): PolicyConfig {
  if (!isPlainObject(input)) {
    throw new PolicyInputError(
      `Invalid policy config: expected an object: current value is ${describeValue(input)}`,
    );
  }
  const merged = mergeObjects(DEFAULT_POLICY_CONFIG, input);
  const parsed = policyConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new PolicyInputError(formatSchemaError("policy config", parsed.error, merged));
  }
  checkLinkOrder(parsed.data);
  return parsed.data;
}

/** ms to move one token's KV over a link of `gbps` GB/s. */
function msPerToken(kvBytesPerToken: number, gbps: number): number {
  return kvBytesPerToken / (gbps * 1e6);
}

/** Writes a resolved config into the f64 config region (length `Cfg.COUNT`). */
export function encodeConfig(config: PolicyConfig, out: Float64Array): void {
  const { links, migration } = config;
  out[Cfg.POLICY] = config.policy === "round-robin"
    ? PolicyKind.ROUND_ROBIN
    : PolicyKind.PREDICTIVE;
  out[Cfg.DISAGGREGATION] = config.disaggregation === "never"
    ? Disaggregation.NEVER
    : config.disaggregation === "always"
    ? Disaggregation.ALWAYS
    : Disaggregation.CONDITIONAL;
  out[Cfg.KV_BLOCK_TOKENS] = config.kvBlockTokens;
  out[Cfg.PREFIX_BLOCK_TOKENS] = config.prefixBlockTokens;
  out[Cfg.LOCAL_PREFILL_MAX_TOKENS] = config.localPrefillMaxTokens;
  out[Cfg.PREFILL_QUEUE_LIMIT_TOKENS] = config.prefillQueueLimitTokens;
  out[Cfg.DECODE_KV_USAGE_LIMIT] = config.decodeKvUsageLimit;
  out[Cfg.ALLOW_SPILLOVER] = config.allowSpillover ? 1 : 0;
  out[Cfg.TTFT_OBSERVED_WEIGHT] = config.ttftObservedWeight;
  out[Cfg.TPOT_OBSERVED_WEIGHT] = config.tpotObservedWeight;
  out[Cfg.TELEMETRY_MAX_AGE_MS] = config.telemetryMaxAgeMs;
  out[Cfg.TIE_WINDOW_MS] = config.tieWindowMs;
  out[Cfg.TIE_WINDOW_RELATIVE] = config.tieWindowRelative;
  out[Cfg.COST_MS_PER_DOLLAR_HOUR] = config.costMsPerDollarHour;
  out[Cfg.CANDIDATE_SAMPLE] = config.candidateSample;
  out[Cfg.XFER_MS_PER_TOKEN_NVLINK] = msPerToken(config.kvBytesPerToken, links.nvlink.gbps);
  out[Cfg.XFER_MS_PER_TOKEN_PCIE] = msPerToken(config.kvBytesPerToken, links.pcie.gbps);
  out[Cfg.XFER_MS_PER_TOKEN_CROSS_NUMA] = msPerToken(config.kvBytesPerToken, links.crossNuma.gbps);
  out[Cfg.XFER_MS_PER_TOKEN_NETWORK] = msPerToken(config.kvBytesPerToken, links.network.gbps);
  out[Cfg.XFER_LATENCY_MS_NVLINK] = links.nvlink.latencyMs;
  out[Cfg.XFER_LATENCY_MS_PCIE] = links.pcie.latencyMs;
  out[Cfg.XFER_LATENCY_MS_CROSS_NUMA] = links.crossNuma.latencyMs;
  out[Cfg.XFER_LATENCY_MS_NETWORK] = links.network.latencyMs;
  out[Cfg.MIGRATION_BUDGET] = migration.budget;
  out[Cfg.MIGRATION_WINDOW_MS] = migration.windowMs;
  out[Cfg.MIGRATION_GAP_MS] = migration.gapMs;
  out[Cfg.MIGRATION_OVERHEAD_MS] = migration.overheadMs;
  out[Cfg.MIGRATION_MAX_MOVES] = migration.maxMovesPerPlan;
  out[Cfg.INTERFERENCE_WEIGHT] = config.interferenceWeight;
}
