/**
 * `least-loaded` (peer baseline, TS only): the endpoint with the fewest requests in flight,
 * counted by the router itself at dispatch and release, separately for the prefill and the
 * decode pool. This is the load measure of the vLLM router and SGLang model gateway
 * (`Worker::load`, an in-flight counter; docs/POLICY.md, "Peer policies"); as a policy of its
 * own it is the shortest-queue rule those routers fall back to when load is imbalanced.
 * Ties go to a uniform draw. Under `conditional` it uses the static local-prefill rule.
 */
import { z } from "zod";
import { fleetFields, modelFields, staticPdFields } from "../policy_fields.ts";
import { Cfg } from "../abi.ts";
import { COMMON_DEFAULTS, STATIC_PD_DEFAULTS } from "./common.ts";
import { inFlight, leastBy, type PeerPolicy, uncachedOn } from "./stages.ts";

export const leastLoadedSchema = z.object({
  policy: z.literal("least-loaded"),
  ...fleetFields,
  ...modelFields,
  ...staticPdFields,
}).strict();

export type LeastLoadedConfig = z.infer<typeof leastLoadedSchema>;

export const LEAST_LOADED_DEFAULTS: LeastLoadedConfig = {
  policy: "least-loaded",
  ...COMMON_DEFAULTS,
  ...STATIC_PD_DEFAULTS,
};

export const leastLoaded: PeerPolicy = {
  pick: (s, stage, exclude, _now, draw) => leastBy(s, stage, exclude, draw, (e) => inFlight(s, e)),
  disaggregate: (s, d) => uncachedOn(s, d) >= s.config[Cfg.LOCAL_PREFILL_MAX_TOKENS],
};
