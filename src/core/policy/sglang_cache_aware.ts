/**
 * `sglang-cache-aware` (peer baseline, TS only): the SGLang model gateway's `cache_aware`
 * policy (sgl-project/sglang sgl-model-gateway `src/policies/cache_aware.rs` after PR #14650;
 * the vLLM router's fork behaves the same), run independently for the prefill and the decode
 * pool as its P/D router does (docs/POLICY.md, "sglang-cache-aware").
 *
 * load(e) = requests in flight on e (the router's own counter, `Worker::load`)
 * min, max over the pool (unhealthy endpoints included, as upstream)
 * if max - min > balanceAbsThreshold and max > balanceRelThreshold * min:
 *   the least loaded healthy endpoint (first in pool order on ties)
 * else if the best prefix match rate (matched / prompt tokens) > cacheThreshold:
 *   an endpoint with that match (upstream: an arbitrary tenant of the deepest node; here a draw)
 * else (a miss): the least loaded healthy endpoint (`missFallback: "least-loaded"`), or the one
 *   whose cache index is smallest (`"smallest-tree"`, the rule before PR #14650)
 *
 * The gateway's radix tree is its approximate record of the text it routed; here every policy
 * reads the host's one prefix index (in the simulator a mirror of the engines' caches, which is
 * at least as favourable). CLI defaults from `router_args.py`: 0.3, 64, 1.5.
 */
import { z } from "zod";
import { fleetFields, modelFields, nonNegative } from "../policy_fields.ts";
import { Cfg, Req } from "../abi.ts";
import type { CoreState } from "../state.ts";
import { COMMON_DEFAULTS } from "./common.ts";
import { eligible, inFlight, leastBy, type PeerPolicy, pool, type Stage } from "./stages.ts";

export const sglangCacheAwareSchema = z.object({
  policy: z.literal("sglang-cache-aware"),
  ...fleetFields,
  ...modelFields,
  /** Follow the best match only when its match rate is above this (`cache_threshold`). */
  cacheThreshold: z.number().min(0).max(1),
  /** Load is imbalanced when max - min exceeds this (`balance_abs_threshold`) ... */
  balanceAbsThreshold: nonNegative,
  /** ... and max exceeds this times min (`balance_rel_threshold`). */
  balanceRelThreshold: nonNegative,
  /** Where a miss goes: the least loaded endpoint (current) or the smallest cache (legacy). */
  missFallback: z.enum(["least-loaded", "smallest-tree"]),
}).strict();

export type SglangCacheAwareConfig = z.infer<typeof sglangCacheAwareSchema>;

export const SGLANG_CACHE_AWARE_DEFAULTS: SglangCacheAwareConfig = {
  policy: "sglang-cache-aware",
  ...COMMON_DEFAULTS,
  cacheThreshold: 0.3,
  balanceAbsThreshold: 64,
  balanceRelThreshold: 1.5,
  missFallback: "least-loaded",
};

/** The least loaded eligible endpoint, the first in pool order on ties (upstream's min_by_key). */
function firstLeastLoaded(s: CoreState, stage: Stage, exclude: number): number {
  const { list, count } = pool(s, stage);
  let best = -1;
  for (let j = 0; j < count; j++) {
    const e = list[j];
    if (eligible(s, e, stage, exclude) && (best < 0 || inFlight(s, e) < inFlight(s, best))) {
      best = e;
    }
  }
  return best;
}

export function sglangCacheAware(config: SglangCacheAwareConfig): PeerPolicy {
  return {
    pick(s: CoreState, stage: Stage, exclude: number, _now: number, draw: number): number {
      const { list, count } = pool(s, stage);
      let minLoad = Infinity, maxLoad = -Infinity;
      for (let j = 0; j < count; j++) {
        if (list[j] === exclude) continue;
        const load = inFlight(s, list[j]);
        if (load < minLoad) minLoad = load;
        if (load > maxLoad) maxLoad = load;
      }
      const fallback = firstLeastLoaded(s, stage, exclude);
      if (fallback < 0) return -1;
      if (
        maxLoad - minLoad > config.balanceAbsThreshold &&
        maxLoad > config.balanceRelThreshold * minLoad
      ) {
        return fallback;
      }
      const prompt = s.request[Req.PROMPT_TOKENS];
      const blockTokens = s.config[Cfg.PREFIX_BLOCK_TOKENS];
      const match = leastBy(s, stage, exclude, draw, (e) => -s.matched[e]);
      const rate = prompt > 0 ? Math.min(prompt, s.matched[match] * blockTokens) / prompt : 0;
      if (rate > config.cacheThreshold) return match;
      return config.missFallback === "least-loaded"
        ? fallback
        : leastBy(s, stage, exclude, draw, (e) => s.prefixCount[e]);
    },
    // The gateway's P/D router sends every request through prefill and decode.
    disaggregate: () => true,
  };
}
