/**
 * `dynamo-kv` (peer baseline, TS only): NVIDIA Dynamo's KV router (ai-dynamo/dynamo
 * `lib/kv-router/src/scheduling/selector/default.rs`, defaults from `KvRouterConfig`;
 * docs/POLICY.md, "dynamo-kv"). Per eligible endpoint, in KV blocks of `kvBlockTokens`:
 *
 *   prefill(e) = max(0, activePrefillTokens(e) + prompt - overlap(e)) / kvBlockTokens
 *   decode(e)  = activeKvBlocks(e) + the request's blocks + activeRequestWeight * requests(e)
 *   cost(e)    = prefillLoadScale * prefill(e) + decode(e)
 *
 * The lowest cost wins, ties at random; with `temperature` > 0 the endpoint is drawn with
 * p ~ exp(-(c - cMin) / ((cMax - cMin) * T)). Active prefill tokens (dispatch -> first token)
 * and active blocks (dispatch -> finish) are the router's own accounting, as Dynamo's
 * ActiveSequences; overlap is what the prefix index holds (Dynamo reads KV events).
 *
 * Disaggregated, Dynamo routes prefill first by the prefill term alone, then decode by the
 * decode term alone (its decode router has no overlap credit and tracks no prefill tokens).
 * Under a `conditional` layout its conditional disaggregation runs with its defaults
 * (`isl_bounding`): the decode endpoint is picked by the full cost, and the request prefills
 * there when its uncached tokens are below `effIslThreshold` and below `effIslRatio` of the
 * prompt; otherwise it disaggregates.
 */
import { z } from "zod";
import { fleetFields, modelFields, nonNegative } from "../policy_fields.ts";
import { Cfg, Disaggregation, mix32, Req, Res } from "../abi.ts";
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

export const dynamoKvSchema = z.object({
  policy: z.literal("dynamo-kv"),
  ...fleetFields,
  ...modelFields,
  /** Weight of the prefill term (`prefill_load_scale`; was `kv_overlap_score_weight`). */
  prefillLoadScale: nonNegative,
  /** Weight of each active request on the decode term (`decode_active_request_weight`). */
  activeRequestWeight: nonNegative,
  /** Softmax temperature over the normalised costs (`router_temperature`; 0: argmin). */
  temperature: nonNegative,
  /** Conditional disaggregation (`isl_bounding`): prefill locally below both bounds. */
  effIslThreshold: nonNegative,
  effIslRatio: z.number().min(0).max(1),
}).strict();

export type DynamoKvConfig = z.infer<typeof dynamoKvSchema>;

export const DYNAMO_KV_DEFAULTS: DynamoKvConfig = {
  policy: "dynamo-kv",
  ...COMMON_DEFAULTS,
  prefillLoadScale: 1,
  activeRequestWeight: 0,
  temperature: 0,
  effIslThreshold: 2048,
  effIslRatio: 0.7,
};

const SOFTMAX_DRAW_SALT = 0x68e31da4;

export function dynamoKv(config: DynamoKvConfig): PeerPolicy {
  const prefillTerm = (s: CoreState, e: number) =>
    config.prefillLoadScale * (s.queuedPrefill[e] + uncachedOn(s, e)) /
    s.config[Cfg.KV_BLOCK_TOKENS];
  const decodeTerm = (s: CoreState, e: number) =>
    s.activeKv[e] + s.result[Res.REQUEST_KV_BLOCKS] + config.activeRequestWeight * inFlight(s, e);
  const cost = (s: CoreState, stage: Stage, e: number) => {
    if (stage === "prefill") return prefillTerm(s, e);
    // The dual layout's decode router prices decode blocks only; otherwise d may prefill too.
    return s.config[Cfg.DISAGGREGATION] === Disaggregation.ALWAYS
      ? decodeTerm(s, e)
      : prefillTerm(s, e) + decodeTerm(s, e);
  };
  return {
    pick(s: CoreState, stage: Stage, exclude: number, _now: number, draw: number): number {
      if (config.temperature === 0) {
        return leastBy(s, stage, exclude, draw, (e) => cost(s, stage, e));
      }
      const { list, count } = pool(s, stage);
      let lo = Infinity, hi = -Infinity, m = 0;
      for (let j = 0; j < count; j++) {
        const e = list[j];
        if (!eligible(s, e, stage, exclude)) continue;
        const c = cost(s, stage, e);
        s.cost[e] = c;
        s.candidates[m++] = e;
        if (c < lo) lo = c;
        if (c > hi) hi = c;
      }
      if (m === 0) return -1;
      let total = 0;
      for (let i = 0; i < m; i++) {
        const e = s.candidates[i];
        s.cost[e] = hi > lo ? Math.exp(-(s.cost[e] - lo) / ((hi - lo) * config.temperature)) : 1;
        total += s.cost[e];
      }
      let u = (mix32(draw ^ SOFTMAX_DRAW_SALT) / 4294967296) * total;
      for (let i = 0; i < m; i++) {
        u -= s.cost[s.candidates[i]];
        if (u < 0) return s.candidates[i];
      }
      return s.candidates[m - 1];
    },
    disaggregate(s, d) {
      const isl = s.request[Req.PROMPT_TOKENS];
      const eff = uncachedOn(s, d);
      const bypass = eff < config.effIslThreshold && eff / Math.max(isl, 1) < config.effIslRatio;
      return !bypass;
    },
  };
}
