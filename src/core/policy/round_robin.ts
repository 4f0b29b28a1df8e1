/**
 * `round-robin`: the baseline. The next healthy endpoint of each pool in cyclic order,
 * ignoring load, locality and topology (docs/POLICY.md, "Round robin"); implemented by both
 * cores (src/core/reference/route_round_robin.ts, assembly/route_round_robin.ts).
 */
import { z } from "zod";
import { fleetFields, modelFields, staticPdFields } from "../policy_fields.ts";
import { COMMON_DEFAULTS, STATIC_PD_DEFAULTS } from "./common.ts";

export const roundRobinSchema = z.object({
  /** The baseline: the next healthy endpoint of each pool in cyclic order. */
  policy: z.literal("round-robin"),
  ...fleetFields,
  ...modelFields,
  ...staticPdFields,
}).strict();

export type RoundRobinConfig = z.infer<typeof roundRobinSchema>;

export const ROUND_ROBIN_DEFAULTS: RoundRobinConfig = {
  policy: "round-robin",
  ...COMMON_DEFAULTS,
  ...STATIC_PD_DEFAULTS,
};
