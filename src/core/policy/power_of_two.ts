/**
 * `power-of-two` (peer baseline, TS only): two distinct endpoints of the pool drawn uniformly,
 * the one with fewer requests in flight wins (ties: the first drawn). As in the vLLM router's
 * and SGLang model gateway's `power_of_two` policy (docs/POLICY.md, "Peer policies"), with the
 * router's own in-flight counts as the load. Under `conditional` it uses the static
 * local-prefill rule.
 */
import { z } from "zod";
import { Cfg, mix32 } from "../abi.ts";
import { fleetFields, modelFields, staticPdFields } from "../policy_fields.ts";
import { COMMON_DEFAULTS, STATIC_PD_DEFAULTS } from "./common.ts";
import { eligible, inFlight, type PeerPolicy, pool, uncachedOn } from "./stages.ts";

export const powerOfTwoSchema = z.object({
  policy: z.literal("power-of-two"),
  ...fleetFields,
  ...modelFields,
  ...staticPdFields,
}).strict();

export type PowerOfTwoConfig = z.infer<typeof powerOfTwoSchema>;

export const POWER_OF_TWO_DEFAULTS: PowerOfTwoConfig = {
  policy: "power-of-two",
  ...COMMON_DEFAULTS,
  ...STATIC_PD_DEFAULTS,
};

/** Second-candidate salt, so one host draw yields two independent positions. */
const SECOND_DRAW_SALT = 0x2545f491;

export const powerOfTwo: PeerPolicy = {
  pick(s, stage, exclude, _now, draw) {
    const { list, count } = pool(s, stage);
    let m = 0;
    for (let j = 0; j < count; j++) {
      if (eligible(s, list[j], stage, exclude)) s.candidates[m++] = list[j];
    }
    if (m === 0) return -1;
    const a = s.candidates[(draw >>> 0) % m];
    if (m === 1) return a;
    const i = (draw >>> 0) % m;
    const b = s.candidates[(i + 1 + mix32(draw ^ SECOND_DRAW_SALT) % (m - 1)) % m];
    return inFlight(s, b) < inFlight(s, a) ? b : a;
  },
  disaggregate: (s, d) => uncachedOn(s, d) >= s.config[Cfg.LOCAL_PREFILL_MAX_TOKENS],
};
