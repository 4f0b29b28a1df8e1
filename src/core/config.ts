/**
 * Policy configuration: every weight, threshold and budget, with its default and why.
 *
 * `resolvePolicyConfig` merges a partial config over the defaults and validates it (zod,
 * strict: unknown keys are typos, not silently ignored). `encodeConfig` flattens the result
 * into the f64 config region both implementations read, deriving per-token transfer costs
 * once so the reference and the WASM core see identical doubles.
 */
import type { z } from "zod";
import { Cfg, Disaggregation, PolicyKind } from "./abi.ts";
import { describeValue, PolicyInputError } from "./errors.ts";
import { findPolicy, POLICY_NAMES, type PolicyConfig } from "./policies.ts";
import { PREDICTIVE_DEFAULTS } from "./policy/predictive.ts";

export type { PolicyConfig, PolicyName } from "./policies.ts";
export type { PredictiveConfig } from "./policy/predictive.ts";

/** The predictive policy's defaults (the default policy); links etc. are shared by all. */
export const DEFAULT_POLICY_CONFIG = PREDICTIVE_DEFAULTS;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
/** A partial config of any policy (`policy` defaults to predictive); defaults fill the rest. */
export type PolicyConfigInput = PolicyConfig extends infer C
  ? C extends PolicyConfig ? DeepPartial<C> : never
  : never;

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
  if (issue.code === "invalid_key") {
    const key = issue.path.at(-1);
    const inner = issue.issues[0]?.message ?? issue.message;
    return `Invalid ${what}: key '${path}' ${inner.toLowerCase()}: current value is ${
      describeValue(key)
    }`;
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

/**
 * Defaults + overrides, validated against the named policy's own schema (`policy` defaults to
 * `predictive`), so a knob of another policy is an unknown field. Throws `PolicyInputError`
 * naming the field and value.
 */
export function resolvePolicyConfig(input: PolicyConfigInput = {}): PolicyConfig {
  if (!isPlainObject(input)) {
    throw new PolicyInputError(
      `Invalid policy config: expected an object: current value is ${describeValue(input)}`,
    );
  }
  const name = (input as { policy?: unknown }).policy ?? "predictive";
  const info = typeof name === "string" ? findPolicy(name) : undefined;
  if (!info) {
    throw new PolicyInputError(
      `Invalid policy config: 'policy' must be one of ${POLICY_NAMES.join(", ")}: ` +
        `current value is ${describeValue(name)}`,
    );
  }
  const merged = mergeObjects(info.defaults, input);
  const parsed = (info.schema as z.ZodType<PolicyConfig>).safeParse(merged);
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

const POLICY_KIND = { "round-robin": PolicyKind.ROUND_ROBIN, predictive: PolicyKind.PREDICTIVE };

/**
 * Writes a resolved config into the f64 config region (length `Cfg.COUNT`). Slots a policy
 * has no field for (a peer has no migration budget) take the predictive defaults; only the
 * two built-in deciders read them.
 */
export function encodeConfig(given: PolicyConfig, out: Float64Array): void {
  const config = { ...PREDICTIVE_DEFAULTS, ...given } as typeof PREDICTIVE_DEFAULTS;
  const { links, migration } = config;
  out[Cfg.POLICY] = POLICY_KIND[given.policy as keyof typeof POLICY_KIND] ?? PolicyKind.PEER;
  out[Cfg.DISAGGREGATION] = config.disaggregation === "never"
    ? Disaggregation.NEVER
    : config.disaggregation === "always"
    ? Disaggregation.ALWAYS
    : Disaggregation.CONDITIONAL;
  out[Cfg.KV_BLOCK_TOKENS] = config.kvBlockTokens;
  out[Cfg.PREFIX_BLOCK_TOKENS] = config.prefixBlockTokens;
  out[Cfg.LOCAL_PREFILL_MAX_TOKENS] = config.localPrefillMaxTokens;
  out[Cfg.PREFILL_QUEUE_LIMIT_TOKENS] = config.prefillQueueLimitTokens ?? Infinity;
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
  out[Cfg.SLO_TTFT_MS] = config.slo.ttftMs;
  out[Cfg.SLO_TPOT_MS] = config.slo.tpotMs;
  out[Cfg.SLO_MISS_WEIGHT] = config.slo.missWeight;
  out[Cfg.SLO_BAND] = config.slo.band;
  out[Cfg.HOST_TIER_CREDIT] = config.hostTierCredit;
}
