/**
 * The decode stage's per-endpoint score (docs/POLICY.md, "Routing", step 2), TS reference:
 * decode step, local and remote prefill costs, and the latency the request adds on d: its own
 * TTFT and output tokens plus the delay it imposes on the sequences decoding there.
 */
import { Cfg, Ctr, Disaggregation, Req, Role } from "../abi.ts";
import type { CoreState } from "../state.ts";
import { fitsKv, pmin, stepTimeMs, tpotScale, uncachedTokens } from "./model.ts";
import { tieThreshold } from "./pick.ts";
import { prefillCostMs, prefillEligible, remoteTtft } from "./prefill_pool.ts";
import { type Members, sampleMembers } from "./sample.ts";

export function decodeEligible(s: CoreState, e: number, reqKv: number): boolean {
  return s.healthy[e] !== 0 && (s.role[e] & Role.DECODE) !== 0 && fitsKv(s, e, reqKv);
}

/** Decode endpoint d's scores; `local`, `self`, `remote`, `ttft` are prefill costs. */
export interface DecodeView {
  step: number;
  local: number;
  /** local(d) if d may prefill for itself, else +Infinity. */
  self: number;
  remote: number;
  ttft: number;
  /** Delay the request's KV imposes on d's running sequences over its output. */
  decodeInterference: number;
}

/** Scores decode endpoint d into `out` (reused, so nothing is allocated per endpoint). */
export function scoreDecode(
  s: CoreState,
  d: number,
  reqKv: number,
  minAll: number,
  now: number,
  out: DecodeView,
): void {
  const cfg = s.config;
  const prompt = s.request[Req.PROMPT_TOKENS];
  const mode = cfg[Cfg.DISAGGREGATION];
  const anyPrefill = minAll < Infinity;
  const step = stepTimeMs(s, d, s.activeKv[d] + reqKv, now);
  const u = uncachedTokens(s, d, prompt);
  const local = prefillCostMs(s, d, u, now);
  const considerRemote = mode === Disaggregation.ALWAYS
    ? anyPrefill
    : mode === Disaggregation.CONDITIONAL && anyPrefill && u >= cfg[Cfg.LOCAL_PREFILL_MAX_TOKENS];
  const self = prefillEligible(s, d) ? local : Infinity;
  const remote = considerRemote ? remoteTtft(s, d, step, minAll, prompt, self) : Infinity;
  let ttft: number;
  if (mode === Disaggregation.ALWAYS) {
    ttft = anyPrefill ? remote : (cfg[Cfg.ALLOW_SPILLOVER] !== 0 ? local : Infinity);
  } else {
    ttft = pmin(local, remote);
  }
  out.step = step;
  out.local = local;
  out.self = self;
  out.remote = remote;
  out.ttft = ttft;
  out.decodeInterference = cfg[Cfg.INTERFERENCE_WEIGHT] * s.activeSeqs[d] *
    s.request[Req.OUTPUT_TOKENS] * (step - stepTimeMs(s, d, s.activeKv[d], now));
}

/** The latency the request adds on d: prefill cost, output tokens, interference, price. */
export function decodeCost(s: CoreState, d: number, view: DecodeView): number {
  const output = s.request[Req.OUTPUT_TOKENS];
  return view.ttft + output * view.step + view.decodeInterference +
    s.costPerHour[d] * s.config[Cfg.COST_MS_PER_DOLLAR_HOUR];
}

/**
 * The decode stage's pass over its members (the decode pool, or its sample under
 * `candidateSample`): cost[d] for each (+Infinity when ineligible); sets `members` and
 * returns the least cost. A sample with no eligible endpoint falls back to the whole pool.
 */
export function scoreDecodeStage(
  s: CoreState,
  members: Members,
  reqKv: number,
  minAll: number,
  now: number,
  draw: number,
  touchedCount: number,
  view: DecodeView,
): number {
  const pool = s.decodePool;
  const poolCount = s.counters[Ctr.DECODE_POOL_COUNT];
  const sampled = sampleMembers(
    s,
    pool,
    poolCount,
    Role.DECODE,
    draw,
    touchedCount,
    s.decodeSample,
  );
  if (sampled >= 0) {
    const best = scoreMembers(s, s.decodeSample, sampled, reqKv, minAll, now, view);
    if (best < Infinity) {
      members.list = s.decodeSample;
      members.count = sampled;
      return best;
    }
  }
  members.list = pool;
  members.count = poolCount;
  return scoreMembers(s, pool, poolCount, reqKv, minAll, now, view);
}

function scoreMembers(
  s: CoreState,
  list: Int32Array,
  count: number,
  reqKv: number,
  minAll: number,
  now: number,
  view: DecodeView,
): number {
  let best = Infinity;
  let threshold = Infinity;
  for (let j = 0; j < count; j++) {
    const d = list[j];
    // An endpoint whose bound is above the tie threshold of the best so far cannot tie.
    if (!decodeEligible(s, d, reqKv) || decodeLowerBound(s, d, reqKv, now) > threshold) {
      s.cost[d] = Infinity;
      continue;
    }
    scoreDecode(s, d, reqKv, minAll, now, view);
    const cost = decodeCost(s, d, view);
    s.cost[d] = cost;
    if (cost < best) {
      best = cost;
      threshold = tieThreshold(s.config, best);
    }
  }
  return best;
}

/**
 * No cost of d is below this: ttft >= 0, the interference terms >= 0 (step time never falls as
 * KV grows), and step(d) >= its model term, (base + perBlock * kv) * tpotScale (IEEE rounding
 * is monotone, so the bound holds in floating point too).
 */
export function decodeLowerBound(s: CoreState, d: number, reqKv: number, now: number): number {
  const output = s.request[Req.OUTPUT_TOKENS];
  const model = (s.decodeBaseMs[d] + s.decodeMsPerBlock[d] * (s.activeKv[d] + reqKv)) *
    tpotScale(s, d, now);
  return output * model + s.costPerHour[d] * s.config[Cfg.COST_MS_PER_DOLLAR_HOUR];
}
