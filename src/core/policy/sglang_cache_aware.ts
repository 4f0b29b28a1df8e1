/**
 * `sglang-cache-aware` (peer baseline, TS only): the SGLang model gateway's (and vLLM
 * router's) `cache_aware` policy, run separately for the prefill and the decode pool as its
 * P/D router does (docs/POLICY.md, "sglang-cache-aware").
 *
 * load(e) = requests in flight (the router's own counter)
 * if max load - min load > balanceAbsThreshold and max load > balanceRelThreshold * min load:
 *   the least loaded endpoint (shortest queue)
 * else if the best prefix match rate (matched tokens / prompt tokens) > cacheThreshold:
 *   the endpoint with that match
 * else: the endpoint whose cache index is smallest (most room)
 * The gateway's radix tree is the router's approximate record of the text it routed; here it is
 * the host's prefix index, which the same policy reads for every policy.
 */
import { z } from "zod";
import { fleetFields, modelFields, nonNegative } from "../policy_fields.ts";
import { Cfg, Req } from "../abi.ts";
import type { CoreState } from "../state.ts";
import { COMMON_DEFAULTS } from "./common.ts";
import {
  eligible,
  inFlight,
  leastBy,
  type PeerPolicy,
  pool,
  type Stage,
  uncachedOn,
} from "./stages.ts";

export const sglangCacheAwareSchema = z.object({
  policy: z.literal("sglang-cache-aware"),
  ...fleetFields,
  ...modelFields,
  /** Follow the best match only when its match rate exceeds this. */
  cacheThreshold: z.number().min(0).max(1),
  /** Load is imbalanced when max - min exceeds this ... */
  balanceAbsThreshold: nonNegative,
  /** ... and max exceeds this times min. */
  balanceRelThreshold: nonNegative,
}).strict();

export type SglangCacheAwareConfig = z.infer<typeof sglangCacheAwareSchema>;

export const SGLANG_CACHE_AWARE_DEFAULTS: SglangCacheAwareConfig = {
  policy: "sglang-cache-aware",
  ...COMMON_DEFAULTS,
  cacheThreshold: 0.3,
  balanceAbsThreshold: 64,
  balanceRelThreshold: 1.5,
};

export function sglangCacheAware(config: SglangCacheAwareConfig): PeerPolicy {
  return {
    pick(s: CoreState, stage: Stage, exclude: number, _now: number, draw: number): number {
      const { list, count } = pool(s, stage);
      let minLoad = Infinity, maxLoad = -Infinity;
      for (let j = 0; j < count; j++) {
        const e = list[j];
        if (!eligible(s, e, stage, exclude)) continue;
        const load = inFlight(s, e);
        if (load < minLoad) minLoad = load;
        if (load > maxLoad) maxLoad = load;
      }
      if (minLoad === Infinity) return -1;
      if (
        maxLoad - minLoad > config.balanceAbsThreshold &&
        maxLoad > config.balanceRelThreshold * minLoad
      ) {
        return leastBy(s, stage, exclude, draw, (e) => inFlight(s, e));
      }
      const prompt = s.request[Req.PROMPT_TOKENS];
      const blockTokens = s.config[Cfg.PREFIX_BLOCK_TOKENS];
      const match = leastBy(s, stage, exclude, draw, (e) => -s.matched[e]);
      const rate = prompt > 0 ? Math.min(prompt, s.matched[match] * blockTokens) / prompt : 0;
      if (rate > config.cacheThreshold) return match;
      return leastBy(s, stage, exclude, draw, (e) => s.prefixCount[e]);
    },
    // The gateway's P/D router disaggregates every request: under `conditional` it does too
    // unless the decode endpoint already holds the whole prompt.
    disaggregate: (s, d) => uncachedOn(s, d) > 0,
  };
}
