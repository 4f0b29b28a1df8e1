/**
 * The shape every peer policy shares (they are TS only; docs/POLICY.md, "Peer policies"):
 * pick the decode endpoint first, then, where the layout lets the policy choose, whether to
 * prefill elsewhere, then the prefill endpoint. The layout decides what the policy may do:
 * `never` prefills on the decode endpoint, `always` on the prefill pool (locally only when no
 * prefill endpoint is healthy and `allowSpillover` is set), `conditional` asks the policy.
 *
 * Peers filter by health and role only: like the systems they reproduce, they leave queueing
 * to the engines. They read the same state the predictive policy reads (the host's own
 * accounting, its prefix index, scraped engine metrics) and report the time model's
 * predictions for the pair they choose, so hosts measure every policy the same way.
 */
import {
  Cfg,
  Ctr,
  Disaggregation,
  mix32,
  PREFILL_DRAW_SALT,
  Req,
  Res,
  Role,
  Status,
} from "../abi.ts";
import type { Decider } from "../scoring_core.ts";
import type { CoreState } from "../state.ts";
import { uncachedTokens } from "../reference/model.ts";
import { clearMatches, matchPrefix } from "../reference/prefix_match.ts";
import { writeFailure, writeReportedDecision } from "../reference/result.ts";

/** Which pool a stage picks from. */
export type Stage = "prefill" | "decode";

export interface PeerPolicy {
  /**
   * Picks an endpoint of the stage's pool (healthy, with the stage's role; for the prefill
   * stage never `exclude`), or -1 when none qualifies. `draw` is this stage's own draw.
   */
  pick(s: CoreState, stage: Stage, exclude: number, now: number, draw: number): number;
  /** Under `conditional`: whether decode endpoint d's request should prefill elsewhere. */
  disaggregate(s: CoreState, d: number): boolean;
}

/** Whether endpoint e may serve `stage` now. */
export function eligible(s: CoreState, e: number, stage: Stage, exclude: number): boolean {
  const bit = stage === "prefill" ? Role.PREFILL : Role.DECODE;
  return e !== exclude && s.healthy[e] !== 0 && (s.role[e] & bit) !== 0;
}

/** The stage's pool, in index order, and its size. */
export function pool(s: CoreState, stage: Stage): { list: Int32Array; count: number } {
  return stage === "prefill"
    ? { list: s.prefillPool, count: s.counters[Ctr.PREFILL_POOL_COUNT] }
    : { list: s.decodePool, count: s.counters[Ctr.DECODE_POOL_COUNT] };
}

/** Requests in flight on e by the host's accounting: decoding (or local) plus prefilling. */
export function inFlight(s: CoreState, e: number): number {
  return s.activeSeqs[e] + s.prefillSeqs[e];
}

/** Whether e's scraped engine metrics are present and younger than `telemetryMaxAgeMs`. */
export function metricsFresh(s: CoreState, e: number, now: number): boolean {
  return s.metricsAt[e] > 0 && now - s.metricsAt[e] <= s.config[Cfg.TELEMETRY_MAX_AGE_MS];
}

/**
 * Picks the eligible endpoint of the stage with the least `key` (ties: the `draw`-th of them in
 * pool order), or -1. `key` must not return NaN.
 */
export function leastBy(
  s: CoreState,
  stage: Stage,
  exclude: number,
  draw: number,
  key: (e: number) => number,
): number {
  const { list, count } = pool(s, stage);
  let best = Infinity;
  let ties = 0;
  for (let j = 0; j < count; j++) {
    const e = list[j];
    if (!eligible(s, e, stage, exclude)) continue;
    const k = key(e);
    if (k < best) {
      best = k;
      ties = 0;
    }
    if (k === best) s.candidates[ties++] = e;
  }
  return ties === 0 ? -1 : s.candidates[(draw >>> 0) % ties];
}

/**
 * Uncached prompt tokens on e by the host's prefix index (leading blocks it holds, host-tier
 * blocks at `hostTierCredit`, as Dynamo credits them).
 */
export function uncachedOn(s: CoreState, e: number): number {
  return uncachedTokens(s, e, s.request[Req.PROMPT_TOKENS]);
}

/** A `Decider` for a peer policy: matches prefixes, runs the stages, writes the result. */
export function peerDecider(s: CoreState, policy: PeerPolicy): Decider {
  return {
    kind: "reference",
    route(now: number, draw: number): number {
      const touched = matchPrefix(s);
      const status = decide(s, policy, now, draw);
      clearMatches(s, touched);
      return status;
    },
    planMigrations(): number {
      return 0;
    },
  };
}

function decide(s: CoreState, policy: PeerPolicy, now: number, draw: number): number {
  const cfg = s.config;
  const res = s.result;
  const prompt = s.request[Req.PROMPT_TOKENS];
  const output = s.request[Req.OUTPUT_TOKENS];
  res[Res.REQUEST_KV_BLOCKS] = Math.ceil((prompt + output) / cfg[Cfg.KV_BLOCK_TOKENS]);
  const d = policy.pick(s, "decode", -1, now, draw);
  if (d < 0) return writeFailure(res, Status.NO_DECODE_CAPACITY);
  const mode = cfg[Cfg.DISAGGREGATION];
  let p = d;
  const remote = mode === Disaggregation.ALWAYS ||
    (mode === Disaggregation.CONDITIONAL && policy.disaggregate(s, d));
  if (remote) {
    const chosen = policy.pick(s, "prefill", d, now, mix32(draw ^ PREFILL_DRAW_SALT));
    if (chosen >= 0) p = chosen;
    else if (mode === Disaggregation.ALWAYS && cfg[Cfg.ALLOW_SPILLOVER] === 0) {
      return writeFailure(res, Status.NO_PREFILL_CAPACITY);
    }
  }
  return writeReportedDecision(s, p, d, now);
}
