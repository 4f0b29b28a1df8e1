/**
 * `predictive`: pdroute's own policy. Every candidate is scored in predicted milliseconds
 * (docs/POLICY.md, "Routing (predictive)"); implemented twice, by the TS reference
 * (src/core/reference/route_predictive.ts) and the WASM core (assembly/route_predictive.ts),
 * and the only policy that migrates running decode work.
 */
import { z } from "zod";
import {
  fleetFields,
  modelFields,
  nonNegative,
  positive,
  staticPdFields,
} from "../policy_fields.ts";
import { COMMON_DEFAULTS, STATIC_PD_DEFAULTS } from "./common.ts";

export const predictiveSchema = z.object({
  /** Scores every candidate in predicted ms (docs/POLICY.md, "Routing (predictive)"). */
  policy: z.literal("predictive"),
  ...fleetFields,
  ...modelFields,
  ...staticPdFields,
  /**
   * Optional hard cap: a prefill endpoint with more queued prompt tokens takes no new work.
   * Absent (the default), no endpoint is ever excluded for its queue: waiting for the prefill
   * pool is priced against prefilling locally (docs/POLICY.md, "SLO terms").
   */
  prefillQueueLimitTokens: nonNegative.optional(),
  /**
   * The objective as SLOs (docs/POLICY.md, "SLO terms"): a predicted miss of the request's own
   * TTFT or TPOT, or a co-running sequence pushed past the TPOT SLO, costs
   * `missWeight x (ttftMs + outputTokens x tpotMs)` ms, ramping in over +-band of the SLO.
   * Hosts set ttftMs/tpotMs from their SLOs; 0 turns the terms off (pure marginal ms).
   */
  slo: z.object({
    ttftMs: nonNegative,
    tpotMs: nonNegative,
    missWeight: nonNegative,
    band: z.number().gt(0).max(1),
  }).strict(),
  /** Candidates within max(tieWindowMs, tieWindowRelative * best) of the best cost are ties. */
  tieWindowMs: nonNegative,
  tieWindowRelative: z.number().min(0).max(1),
  /**
   * Weight of the delay a choice imposes on sequences already decoding on an endpoint (a local
   * prefill stalls them; extra KV slows their steps), relative to the request's own latency.
   * 1 minimises total latency (marginal cost); 0 scores the request's own latency only.
   */
  interferenceWeight: z.number().min(0).max(10),
  /**
   * 0: every stage scores its whole pool (exact). k > 0: a stage whose pool holds more than k
   * endpoints scores k of them, drawn from the host's draw, plus every endpoint with a prefix
   * hit (power-of-k choices, for large fleets; docs/POLICY.md, "Candidate sampling").
   */
  candidateSample: z.number().int().min(0).max(16384),
  migration: z.object({
    /** At most this many migrations in any window of `windowMs` (caller's clock). */
    budget: z.number().int().min(0).max(1 << 16),
    windowMs: positive,
    /** Migrate only when predicted benefit minus cost exceeds this many ms. */
    gapMs: nonNegative,
    /** Fixed cost of one migration (pause, re-admission), on top of the KV transfer. */
    overheadMs: nonNegative,
    /** Most moves one `planMigrations` call may return. */
    maxMovesPerPlan: z.number().int().min(0).max(1024),
  }).strict(),
}).strict();

export type PredictiveConfig = z.infer<typeof predictiveSchema>;

export const PREDICTIVE_DEFAULTS: PredictiveConfig = {
  policy: "predictive",
  ...COMMON_DEFAULTS,
  ...STATIC_PD_DEFAULTS,
  slo: { ttftMs: 2000, tpotMs: 50, missWeight: 1, band: 0.1 },
  tieWindowMs: 1,
  tieWindowRelative: 0.01,
  interferenceWeight: 0.3,
  candidateSample: 0,
  migration: { budget: 8, windowMs: 1000, gapMs: 50, overheadMs: 5, maxMovesPerPlan: 4 },
};
