/**
 * The one table of policies: every name the simulator, `serve`, `drive` and the league accept,
 * with what it is, where its algorithm comes from, its config schema and defaults, whether it
 * migrates, and which cores implement it. Everything that needs to know about a policy reads
 * it here (docs/POLICY.md has one section per policy, in this order).
 *
 * `round-robin` and `predictive` are implemented by both cores (the TS reference and the WASM
 * core, held to one spec). The peers reproduce other routers' documented algorithms and are
 * TS only: their deciders run on either core's state (src/core/policy/stages.ts).
 */
import type { z } from "zod";
import type { CoreState } from "./state.ts";
import {
  DYNAMO_KV_DEFAULTS,
  dynamoKv,
  type DynamoKvConfig,
  dynamoKvSchema,
} from "./policy/dynamo_kv.ts";
import {
  LEAST_LOADED_DEFAULTS,
  leastLoaded,
  type LeastLoadedConfig,
  leastLoadedSchema,
} from "./policy/least_loaded.ts";
import { LLM_D_DEFAULTS, llmD, type LlmDConfig, llmDSchema } from "./policy/llm_d.ts";
import {
  POWER_OF_TWO_DEFAULTS,
  powerOfTwo,
  type PowerOfTwoConfig,
  powerOfTwoSchema,
} from "./policy/power_of_two.ts";
import {
  PREDICTIVE_DEFAULTS,
  type PredictiveConfig,
  predictiveSchema,
} from "./policy/predictive.ts";
import {
  ROUND_ROBIN_DEFAULTS,
  type RoundRobinConfig,
  roundRobinSchema,
} from "./policy/round_robin.ts";
import {
  SGLANG_CACHE_AWARE_DEFAULTS,
  sglangCacheAware,
  type SglangCacheAwareConfig,
  sglangCacheAwareSchema,
} from "./policy/sglang_cache_aware.ts";
import type { PeerPolicy } from "./policy/stages.ts";

/** Every policy's resolved config, keyed on `policy`. */
export type PolicyConfig =
  | PredictiveConfig
  | RoundRobinConfig
  | LeastLoadedConfig
  | PowerOfTwoConfig
  | LlmDConfig
  | SglangCacheAwareConfig
  | DynamoKvConfig;

export type PolicyName = PolicyConfig["policy"];

export interface PolicyInfo {
  readonly name: PolicyName;
  /** `product`: pdroute's own; `baseline`: the naive reference; `peer`: another router's. */
  readonly kind: "product" | "baseline" | "peer";
  /** One line: what it does. */
  readonly summary: string;
  /** Where the algorithm and its defaults come from. */
  readonly source: string;
  /** Its section in docs/POLICY.md. */
  readonly doc: string;
  readonly schema: z.ZodType<PolicyConfig>;
  readonly defaults: PolicyConfig;
  /** Plans live migrations of decode work (when its budget is above zero). */
  readonly migrates: boolean;
  /** Implemented by both cores; otherwise a TS decider that runs on either core's state. */
  readonly bothCores: boolean;
  /** Scores with scraped engine metrics (waiting, running, KV usage): hosts must scrape. */
  readonly readsMetrics: boolean;
  /** The peer's decider for a resolved config of this policy (peers only). */
  readonly peer?: (config: PolicyConfig, state: CoreState) => PeerPolicy;
}

function entry<C extends PolicyConfig>(
  info: Omit<PolicyInfo, "schema" | "defaults" | "peer"> & {
    schema: z.ZodType<C>;
    defaults: C;
    peer?: (config: C, state: CoreState) => PeerPolicy;
  },
): PolicyInfo {
  return info as unknown as PolicyInfo;
}

/** In league order: the product, the baseline, then the peers. */
export const POLICY_LIST: readonly PolicyInfo[] = [
  entry({
    name: "predictive",
    kind: "product",
    summary: "scores every candidate in predicted ms (own latency + the delay imposed on others)",
    source: "pdroute (docs/POLICY.md)",
    doc: "docs/POLICY.md#routing-predictive",
    schema: predictiveSchema,
    defaults: PREDICTIVE_DEFAULTS,
    migrates: true,
    bothCores: true,
    readsMetrics: false,
  }),
  entry({
    name: "round-robin",
    kind: "baseline",
    summary: "the next healthy endpoint of each pool in cyclic order",
    source: "the classic baseline; vLLM router / SGLang gateway `round_robin`",
    doc: "docs/POLICY.md#round-robin-baseline",
    schema: roundRobinSchema,
    defaults: ROUND_ROBIN_DEFAULTS,
    migrates: false,
    bothCores: true,
    readsMetrics: false,
  }),
  entry({
    name: "least-loaded",
    kind: "peer",
    summary: "fewest requests in flight (router-side counts), per pool",
    source: "vLLM router / SGLang model gateway worker load (in-flight counter)",
    doc: "docs/POLICY.md#least-loaded",
    schema: leastLoadedSchema,
    defaults: LEAST_LOADED_DEFAULTS,
    migrates: false,
    bothCores: false,
    readsMetrics: false,
    peer: () => leastLoaded,
  }),
  entry({
    name: "power-of-two",
    kind: "peer",
    summary: "two random endpoints, the one with fewer requests in flight wins",
    source: "vLLM router / SGLang model gateway `power_of_two`",
    doc: "docs/POLICY.md#power-of-two",
    schema: powerOfTwoSchema,
    defaults: POWER_OF_TWO_DEFAULTS,
    migrates: false,
    bothCores: false,
    readsMetrics: false,
    peer: () => powerOfTwo,
  }),
  entry({
    name: "llm-d",
    kind: "peer",
    summary:
      "weighted scorers (prefix 2 : queue 1 : KV utilisation 1), max score; prefix-based P/D decider",
    source: "llm-d inference scheduler / Gateway API Inference Extension endpoint picker",
    doc: "docs/POLICY.md#llm-d",
    schema: llmDSchema,
    defaults: LLM_D_DEFAULTS,
    migrates: false,
    bothCores: false,
    readsMetrics: true,
    peer: (config) => llmD(config),
  }),
  entry({
    name: "sglang-cache-aware",
    kind: "peer",
    summary:
      "follow the best prefix match above a threshold, else the smallest cache; shortest queue when imbalanced",
    source: "SGLang model gateway / vLLM router `cache_aware`",
    doc: "docs/POLICY.md#sglang-cache-aware",
    schema: sglangCacheAwareSchema,
    defaults: SGLANG_CACHE_AWARE_DEFAULTS,
    migrates: false,
    bothCores: false,
    readsMetrics: false,
    peer: (config) => sglangCacheAware(config),
  }),
  entry({
    name: "dynamo-kv",
    kind: "peer",
    summary:
      "lowest prefill blocks (overlap credited) + decode blocks; prefill first when disaggregated",
    source: "NVIDIA Dynamo KV router (lib/kv-router selector, KvRouterConfig defaults)",
    doc: "docs/POLICY.md#dynamo-kv",
    schema: dynamoKvSchema,
    defaults: DYNAMO_KV_DEFAULTS,
    migrates: false,
    bothCores: false,
    readsMetrics: false,
    peer: (config) => dynamoKv(config),
  }),
];

export const POLICY_NAMES: readonly PolicyName[] = POLICY_LIST.map((p) => p.name);

const BY_NAME = new Map<string, PolicyInfo>(POLICY_LIST.map((p) => [p.name, p]));

/** The table entry for `name`, or undefined. */
export function findPolicy(name: string): PolicyInfo | undefined {
  return BY_NAME.get(name);
}

/** The table entry for a known name (a resolved config's `policy`). */
export function policyInfo(name: PolicyName): PolicyInfo {
  return BY_NAME.get(name)!;
}

/** The config fields `name`'s schema accepts (what a shared override may set on it). */
export function policyFields(name: PolicyName): ReadonlySet<string> {
  const schema = policyInfo(name).schema as unknown as { shape: Record<string, unknown> };
  return new Set(Object.keys(schema.shape));
}

export function isPolicyName(name: string): name is PolicyName {
  return BY_NAME.has(name);
}
