/**
 * `llm-d` (peer baseline, TS only): the llm-d router's (inference scheduler, the Gateway API
 * Inference Extension's endpoint picker) scheduling as llm-d-inference-scheduler @ 520af478
 * runs it: filter by role -> weighted sum of scorers -> max-score picker, ties at random
 * (docs/POLICY.md, "llm-d"):
 *
 *   score(e) = prefix * matched(e) / blocks           prefix-cache scorer
 *            + queue  * (maxQ - q(e)) / (maxQ - minQ) queue scorer (1 for all when equal)
 *            + kv     * (1 - kvUsage(e))              kv-cache-utilization scorer
 *
 * q and kvUsage are the engine's scraped `num_requests_waiting` and `kv_cache_usage_perc`
 * (refreshed every 50 ms upstream; stale values are not filtered out there either). Weights
 * 2 : 1 : 1 are llm-d's shipped config for a KV-accurate prefix index
 * (`epp-precise-prefix-cache-config.yaml`), which is what the simulator's index is. P/D: the
 * decode profile runs first; the `prefix-based-pd-decider` disaggregates when the prompt's
 * tokens not cached on the chosen decode endpoint reach `nonCachedTokens` (the shipped P/D
 * sample's 16; llm-d's built-in 0 would never disaggregate), and the prefill profile picks
 * with the same scorers.
 */
import { z } from "zod";
import { fleetFields, modelFields, nonNegative } from "../policy_fields.ts";
import { Req } from "../abi.ts";
import type { CoreState } from "../state.ts";
import { COMMON_DEFAULTS } from "./common.ts";
import { eligible, type PeerPolicy, pool, type Stage, uncachedOn } from "./stages.ts";

export const llmDSchema = z.object({
  policy: z.literal("llm-d"),
  ...fleetFields,
  ...modelFields,
  /** Scorer weights: prefix-cache, queue, kv-cache-utilization. */
  weights: z.object({
    prefix: nonNegative,
    queue: nonNegative,
    kvUtilization: nonNegative,
  }).strict(),
  /** The prefix-based P/D decider's `nonCachedTokens`: disaggregate at this many uncached tokens. */
  nonCachedTokens: nonNegative,
}).strict();

export type LlmDConfig = z.infer<typeof llmDSchema>;

export const LLM_D_DEFAULTS: LlmDConfig = {
  policy: "llm-d",
  ...COMMON_DEFAULTS,
  weights: { prefix: 2, queue: 1, kvUtilization: 1 },
  nonCachedTokens: 16,
};

export function llmD(config: LlmDConfig): PeerPolicy {
  const w = config.weights;
  return {
    pick(s: CoreState, stage: Stage, exclude: number, _now: number, draw: number): number {
      const { list, count } = pool(s, stage);
      let minQ = Infinity, maxQ = -Infinity;
      for (let j = 0; j < count; j++) {
        const e = list[j];
        if (!eligible(s, e, stage, exclude)) continue;
        const q = s.waitingObs[e];
        if (q < minQ) minQ = q;
        if (q > maxQ) maxQ = q;
      }
      if (minQ === Infinity) return -1;
      const blocks = s.request[Req.BLOCK_COUNT];
      let best = -Infinity;
      let ties = 0;
      for (let j = 0; j < count; j++) {
        const e = list[j];
        if (!eligible(s, e, stage, exclude)) continue;
        const prefix = blocks > 0 ? s.matched[e] / blocks : 0;
        const queue = maxQ > minQ ? (maxQ - s.waitingObs[e]) / (maxQ - minQ) : 1;
        const kv = 1 - Math.min(1, s.kvUsageObs[e]);
        const score = w.prefix * prefix + w.queue * queue + w.kvUtilization * kv;
        if (score > best) {
          best = score;
          ties = 0;
        }
        if (score === best) s.candidates[ties++] = e;
      }
      return s.candidates[(draw >>> 0) % ties];
    },
    disaggregate: (s, d) =>
      config.nonCachedTokens > 0 && s.request[Req.PROMPT_TOKENS] >= config.nonCachedTokens &&
      uncachedOn(s, d) >= config.nonCachedTokens,
  };
}
