/**
 * The decode stage's per-endpoint score (docs/POLICY.md, "Routing", step 2), TS reference:
 * decode step, local and remote prefill costs, and the latency the request adds on d: its own
 * TTFT and output tokens, the delay it imposes on the sequences decoding there, the wait for a
 * seat, and the SLO misses it is predicted to cause (docs/POLICY.md, "SLO terms").
 */
import { Cfg, Ctr, Disaggregation, Req, Role } from "../abi.ts";
import type { CoreState } from "../state.ts";
import {
  fitsKv,
  pmax,
  pmin,
  prefillTimeMs,
  seatWaitMs,
  sloRamp,
  stepModelMs,
  stepTimeMs,
  tpotScale,
  uncachedTokens,
} from "./model.ts";
import { tieThreshold } from "./pick.ts";
import { prefillEligible, remoteTtft } from "./prefill_pool.ts";
import { type Members, sampleMembers } from "./sample.ts";

export function decodeEligible(s: CoreState, e: number, reqKv: number, now: number): boolean {
  return s.healthy[e] !== 0 && (s.role[e] & Role.DECODE) !== 0 && fitsKv(s, e, reqKv) &&
    withinTpotSlo(s, e, reqKv, now);
}

/**
 * SLO admission: with SLOs set, d takes no sequence that would lift its modelled step past
 * the top of the TPOT SLO band (every sequence there would miss): the request waits at the
 * router instead, like one that finds no KV, but only while waiting can work. It cannot when
 * the step with the observed TPOT factor is not past the band (the engine is faster than its
 * model), nor when the sequences that must finish to bring that step under the band take
 * longer than the TTFT SLO to finish, or never do (the base step alone is past the band):
 * before, a TPOT SLO below the empty-batch step shed every request. Only sequences the router
 * (or its replicas) placed count as finishing: load nobody here placed (`externalSeqs`, clients
 * sent straight to the engine) is refilled by its own clients; before, live, with half of 500
 * closed-loop streams straight at the engines, the routed half was held ~1.95 s at p50.
 * As for KV room, the step counts the KV and the sequences resident now, not those still
 * prefilling elsewhere. Whether to hold at all is the model's step, without the factor: the
 * factor also carries other requests' prefill chunks, which come and go, and applied there
 * it shut a whole engine for seconds (live: every request to the other engine until it caught
 * up); here it can only release.
 */
function withinTpotSlo(s: CoreState, d: number, reqKv: number, now: number): boolean {
  const cfg = s.config;
  const tpotSlo = cfg[Cfg.SLO_TPOT_MS];
  if (!(cfg[Cfg.SLO_TTFT_MS] > 0 && tpotSlo > 0)) return true;
  const kv = s.activeKv[d] - s.pendingKv[d] + reqKv;
  const seqs = s.activeSeqs[d] - s.pendingSeqs[d] + 1;
  const top = tpotSlo * (1 + cfg[Cfg.SLO_BAND]);
  const model = stepModelMs(s, d, kv, seqs);
  if (!(model - top > 0)) return true;
  const excess = stepTimeMs(s, d, kv, seqs, now) - top;
  if (!(excess > 0)) return true;
  // Past the band: waiting helps only if enough placed sequences finish within the TTFT SLO.
  const placed = pmax(0, seqs - s.externalSeqs[d]);
  const drain = excess * s.request[Req.OUTPUT_TOKENS] * model * seqs /
    (pmax(0, model - s.decodeBaseMs[d]) * placed);
  return !(drain <= cfg[Cfg.SLO_TTFT_MS]);
}

/** Decode endpoint d's scores; `local`, `self`, `remote` are prefill costs. */
export interface DecodeView {
  step: number;
  local: number;
  /** local(d) if d may prefill for itself, else +Infinity. */
  self: number;
  remote: number;
  /** Delay the request's KV imposes on d's running sequences over its output. */
  decodeInterference: number;
  /** The whole cost of d with a local prefill and with the best remote one (+Infinity: none). */
  costLocal: number;
  costRemote: number;
  /** d's cost: the path the mode allows and prices lower. */
  cost: number;
  /** The remote path is the chosen one. */
  useRemote: boolean;
  /** The decode stage's members' mean batch (`batchMean`), set by the stage's pass. */
  batchMean: number;
}

/** Scores decode endpoint d into `out` (reused, so nothing is allocated per endpoint). */
export function scoreDecode(
  s: CoreState,
  d: number,
  reqKv: number,
  minAll: number,
  now: number,
  out: DecodeView,
  batchMean: number,
): void {
  const cfg = s.config;
  const prompt = s.request[Req.PROMPT_TOKENS];
  const output = s.request[Req.OUTPUT_TOKENS];
  const mode = cfg[Cfg.DISAGGREGATION];
  const w = cfg[Cfg.INTERFERENCE_WEIGHT];
  const anyPrefill = minAll < Infinity;
  const seqs = s.activeSeqs[d];
  const kvNow = s.activeKv[d];
  const step = stepTimeMs(s, d, kvNow + reqKv, seqs + 1, now);
  const stepNow = stepTimeMs(s, d, kvNow, seqs, now);
  const u = uncachedTokens(s, d, prompt);
  const ownLocal = prefillTimeMs(s, d, u, now);
  const stall = u * s.prefillMsPerToken[d];
  const considerRemote = mode === Disaggregation.ALWAYS
    ? anyPrefill
    : mode === Disaggregation.CONDITIONAL && anyPrefill && u >= cfg[Cfg.LOCAL_PREFILL_MAX_TOKENS];
  // The stall placement can avoid: with a remote path the prefill need stall no batch, so a
  // local one costs d's batch; without one it stalls a batch wherever it runs, and only the
  // members' mean batch is priced (d's own made the smaller batch take every long prompt).
  const prefillStall = w * (considerRemote ? seqs : batchMean) * stall;
  const local = ownLocal + prefillStall;
  const self = prefillEligible(s, d) ? local : Infinity;
  const remote = considerRemote ? remoteTtft(s, d, step, minAll, prompt, self) : Infinity;
  const seatWait = seatWaitMs(s, d, output, stepNow);
  // The request's KV slows the batch it joins: d's own (which keeps batches even).
  const decodeInterference = w * seqs * output * (step - stepNow);
  const common = output * step + decodeInterference +
    s.costPerHour[d] * cfg[Cfg.COST_MS_PER_DOLLAR_HOUR] + seatWait;
  const ttftSlo = cfg[Cfg.SLO_TTFT_MS], tpotSlo = cfg[Cfg.SLO_TPOT_MS];
  let sloLocal = 0, sloRemote = 0, remoteLate = 0, ownWeight = 1;
  if (ttftSlo > 0 && tpotSlo > 0) {
    const band = cfg[Cfg.SLO_BAND];
    const penalty = cfg[Cfg.SLO_MISS_WEIGHT] * (ttftSlo + output * tpotSlo);
    const tpotMiss = sloRamp(step, tpotSlo, band);
    const before = sloRamp(stepNow, tpotSlo, band);
    const coRemote = seqs * pmax(0, tpotMiss - before);
    // A local prefill of u tokens stalls every sequence on d for `stall` ms in total: one with
    // n tokens to go gains stall / n ms per token and misses once that exceeds its headroom
    // h, i.e. when n < stall / h. Sequences running at a given moment are length-biased (a
    // long one is more likely to be running), so with x = stall / (h x output) the share of
    // them short enough is taken as x^2 / (2 + 2x + x^2), a rational stand-in for the
    // length-biased exponential's 1 - e^-x (1 + x) (no exp, so both cores agree exactly).
    const scale = pmax(0, tpotSlo - step) * output;
    const x = stall > 0 ? (scale > 0 ? stall / scale : Infinity) : 0;
    const stalled = x === Infinity ? 1 : x * x / (2 + 2 * x + x * x);
    const coLocal = coRemote + seqs * (1 - tpotMiss) * stalled;
    remoteLate = sloRamp(remote + seatWait, ttftSlo, band);
    const localLate = sloRamp(ownLocal + seatWait, ttftSlo, band);
    sloLocal = penalty * (pmax(localLate, tpotMiss) + coLocal);
    sloRemote = penalty * (pmax(remoteLate, tpotMiss) + coRemote);
    // A request late whichever path it takes gains nothing by its own TTFT being shorter:
    // only what it costs others still counts (a lost cause does not take decode GPUs' time).
    ownWeight = 1 - (considerRemote ? pmin(localLate, remoteLate) : localLate);
  }
  const costLocal = ownLocal * ownWeight + prefillStall + common + sloLocal;
  const costRemote = considerRemote ? remote * ownWeight + common + sloRemote : Infinity;
  let useRemote: boolean;
  let cost: number;
  if (mode === Disaggregation.ALWAYS) {
    // Prefill is remote; local prefill (spillover) is a choice only where waiting for the
    // prefill pool is predicted to cost the TTFT SLO, priced like any other path.
    const spill = cfg[Cfg.ALLOW_SPILLOVER] !== 0;
    if (anyPrefill) {
      useRemote = !(spill && remoteLate > 0) || costRemote <= costLocal;
      cost = useRemote ? costRemote : costLocal;
    } else {
      useRemote = false;
      cost = spill ? costLocal : Infinity;
    }
  } else {
    useRemote = costRemote < costLocal;
    cost = useRemote ? costRemote : costLocal;
  }
  out.step = step;
  out.local = local;
  out.self = self;
  out.remote = remote;
  out.decodeInterference = decodeInterference;
  out.costLocal = costLocal;
  out.costRemote = costRemote;
  out.cost = cost;
  out.useRemote = useRemote;
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
  const mean = batchMean(s, list, count);
  view.batchMean = mean;
  for (let j = 0; j < count; j++) {
    const d = list[j];
    // An endpoint whose bound is above the tie threshold of the best so far cannot tie.
    if (!decodeEligible(s, d, reqKv, now) || decodeLowerBound(s, d, reqKv, now) > threshold) {
      s.cost[d] = Infinity;
      continue;
    }
    scoreDecode(s, d, reqKv, minAll, now, view, mean);
    const cost = view.cost;
    s.cost[d] = cost;
    if (cost < best) {
      best = cost;
      threshold = tieThreshold(s.config, best);
    }
  }
  return best;
}

/**
 * The mean running batch (`activeSeqs`) over the healthy endpoints of the decode stage's
 * members, summed in member order; 0 when none is healthy (then nothing is scored).
 */
function batchMean(s: CoreState, list: Int32Array, count: number): number {
  let sum = 0;
  let healthy = 0;
  for (let j = 0; j < count; j++) {
    const e = list[j];
    if (s.healthy[e] === 0) continue;
    sum += s.activeSeqs[e];
    healthy++;
  }
  return healthy > 0 ? sum / healthy : 0;
}

/**
 * No cost of d is below this: ttft >= 0, the interference terms >= 0 (step time never falls as
 * KV grows), and step(d) >= its model term, (base + perBlock * kv) * tpotScale (IEEE rounding
 * is monotone, so the bound holds in floating point too).
 */
export function decodeLowerBound(s: CoreState, d: number, reqKv: number, now: number): number {
  const output = s.request[Req.OUTPUT_TOKENS];
  const model = (s.decodeBaseMs[d] + s.decodeMsPerBlock[d] * (s.activeKv[d] + reqKv) +
    s.decodeMsPerSeq[d] * (s.activeSeqs[d] + 1)) * tpotScale(s, d, now);
  return output * model + s.costPerHour[d] * s.config[Cfg.COST_MS_PER_DOLLAR_HOUR];
}
