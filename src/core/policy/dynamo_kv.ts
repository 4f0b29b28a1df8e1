/**
 * `dynamo-kv` (peer baseline, TS only): NVIDIA Dynamo's KV router cost (docs/POLICY.md,
 * "dynamo-kv"). Per eligible endpoint, in KV blocks:
 *
 *   prefillBlocks(e) = max(0, activePrefillTokens(e) + prompt - overlap(e)) / kvBlockTokens
 *   decodeBlocks(e)  = activeKvBlocks(e) + request blocks
 *   logit(e)         = overlapScoreWeight * prefillBlocks(e) + decodeBlocks(e)
 *
 * The lowest logit wins (ties at random); with `temperature` > 0 the endpoint is drawn from
 * softmax(-logit / temperature) over min-max normalised logits. Active prefill tokens and
 * active blocks are the router's own accounting of what it dispatched; overlap is what the
 * prefix index says the endpoint holds (Dynamo reads KV events).
 */
import { z } from "zod";
import { fleetFields, modelFields, nonNegative } from "../policy_fields.ts";
import { Cfg, mix32, Req, Res } from "../abi.ts";
import type { CoreState } from "../state.ts";
import { COMMON_DEFAULTS } from "./common.ts";
import { eligible, leastBy, type PeerPolicy, pool, type Stage, uncachedOn } from "./stages.ts";

export const dynamoKvSchema = z.object({
  policy: z.literal("dynamo-kv"),
  ...fleetFields,
  ...modelFields,
  /** Weight of the prefill blocks against the decode blocks (Dynamo `kv_overlap_score_weight`). */
  overlapScoreWeight: nonNegative,
  /** Softmax temperature over the normalised logits (Dynamo `router_temperature`; 0: argmin). */
  temperature: nonNegative,
  /** Under `conditional`: prefill locally when the uncached prompt is shorter than this. */
  maxLocalPrefillTokens: nonNegative,
}).strict();

export type DynamoKvConfig = z.infer<typeof dynamoKvSchema>;

export const DYNAMO_KV_DEFAULTS: DynamoKvConfig = {
  policy: "dynamo-kv",
  ...COMMON_DEFAULTS,
  overlapScoreWeight: 1,
  temperature: 0,
  maxLocalPrefillTokens: 1000,
};

const SOFTMAX_DRAW_SALT = 0x68e31da4;

export function dynamoKv(config: DynamoKvConfig): PeerPolicy {
  const logit = (s: CoreState, e: number) => {
    const prompt = s.request[Req.PROMPT_TOKENS];
    const blockTokens = s.config[Cfg.KV_BLOCK_TOKENS];
    const prefill = Math.max(0, s.queuedPrefill[e] + uncachedOn(s, e)) / blockTokens;
    void prompt;
    const decode = s.activeKv[e] + s.result[Res.REQUEST_KV_BLOCKS];
    return config.overlapScoreWeight * prefill + decode;
  };
  return {
    pick(s: CoreState, stage: Stage, exclude: number, _now: number, draw: number): number {
      if (config.temperature === 0) return leastBy(s, stage, exclude, draw, (e) => logit(s, e));
      const { list, count } = pool(s, stage);
      let lo = Infinity, hi = -Infinity, m = 0;
      for (let j = 0; j < count; j++) {
        const e = list[j];
        if (!eligible(s, e, stage, exclude)) continue;
        const v = logit(s, e);
        s.cost[e] = v;
        s.candidates[m++] = e;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (m === 0) return -1;
      const span = hi > lo ? hi - lo : 1;
      let total = 0;
      for (let i = 0; i < m; i++) {
        const e = s.candidates[i];
        s.cost[e] = Math.exp(-((s.cost[e] - lo) / span) / config.temperature);
        total += s.cost[e];
      }
      let u = (mix32(draw ^ SOFTMAX_DRAW_SALT) / 4294967296) * total;
      for (let i = 0; i < m; i++) {
        u -= s.cost[s.candidates[i]];
        if (u < 0) return s.candidates[i];
      }
      return s.candidates[m - 1];
    },
    disaggregate: (s, d) => uncachedOn(s, d) >= config.maxLocalPrefillTokens,
  };
}
