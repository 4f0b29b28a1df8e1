/**
 * `llm-d` (peer baseline, TS only): the llm-d inference scheduler's default scheduling, as the
 * Gateway API Inference Extension's endpoint picker runs it: filter -> weighted scorers ->
 * max-score picker (docs/POLICY.md, "llm-d", for the sources and what we chose where they
 * leave a choice open).
 *
 * score(e) = prefix * matched(e) / blocks            (prefix-cache scorer)
 *          + queue  * (maxQ - q(e)) / (maxQ - minQ)  (queue scorer; 1 for all when equal)
 *          + kv     * (1 - kvUsage(e))               (kv-cache-utilization scorer)
 * q and kvUsage are the engine's scraped `num_requests_waiting` and `kv_cache_usage_perc`;
 * the highest score wins, ties at random. P/D: the decode profile runs first; the
 * prefix-based P/D decider disaggregates when the prompt's tokens not cached on the chosen
 * decode endpoint reach `pdThresholdTokens`, and the prefill profile picks with the same scorers.
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
  /** Scorer weights (llm-d's documented default profile: prefix 2, queue 1, kv-utilisation 1). */
  weights: z.object({
    prefix: nonNegative,
    queue: nonNegative,
    kvUtilization: nonNegative,
  }).strict(),
  /** The prefix-based P/D decider's threshold: disaggregate at this many uncached tokens. */
  pdThresholdTokens: nonNegative,
}).strict();

export type LlmDConfig = z.infer<typeof llmDSchema>;

export const LLM_D_DEFAULTS: LlmDConfig = {
  policy: "llm-d",
  ...COMMON_DEFAULTS,
  weights: { prefix: 2, queue: 1, kvUtilization: 1 },
  pdThresholdTokens: 512,
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
        const kv = 1 - s.kvUsageObs[e];
        const score = w.prefix * prefix + w.queue * queue + w.kvUtilization * kv;
        if (score > best) {
          best = score;
          ties = 0;
        }
        if (score === best) s.candidates[ties++] = e;
      }
      return s.candidates[(draw >>> 0) % ties];
    },
    disaggregate: (s, d) => uncachedOn(s, d) >= config.pdThresholdTokens,
  };
}
