// The decode stage's pool pass: twin of src/core/reference/decode_pool.ts, with remoteTtft
// (src/core/reference/prefill_pool.ts) inlined. The per-decision values (config, transfer
// times per link class, request) are computed once into globals by prepareDecode: kept in
// locals, V8 spills them anyway and may even recompute them inside the loop. The
// per-endpoint loop calls nothing.

import {
  CFG_ALLOW_SPILLOVER, CFG_COST_MS_PER_DOLLAR_HOUR, CFG_DECODE_KV_USAGE_LIMIT,
  CFG_DISAGGREGATION, CFG_INTERFERENCE_WEIGHT, CFG_LOCAL_PREFILL_MAX_TOKENS, CFG_PREFILL_QUEUE_LIMIT_TOKENS,
  CFG_SLO_BAND, CFG_SLO_MISS_WEIGHT, CFG_SLO_TPOT_MS, CFG_SLO_TTFT_MS,
  CFG_TELEMETRY_MAX_AGE_MS, CFG_TPOT_OBSERVED_WEIGHT,
  CFG_TTFT_OBSERVED_WEIGHT, CTR_DECODE_POOL_COUNT, DISAGGREGATION_ALWAYS,
  DISAGGREGATION_CONDITIONAL, LINKCLASS_CROSS_NUMA, LINKCLASS_NETWORK, LINKCLASS_NVLINK,
  LINKCLASS_PCIE, REQ_OUTPUT_TOKENS, REQ_PROMPT_TOKENS, ROLE_DECODE, ROLE_PREFILL,
} from "./abi";
import {
  base, capDomains, capHosts, capNumaPerHost, REGION_ACTIVE_KV, REGION_ACTIVE_SEQS, REGION_CONFIG, REGION_COST,
  REGION_COST_PER_HOUR, REGION_COUNTERS, REGION_DECODE_BASE_MS, REGION_DECODE_MS_PER_BLOCK,
  REGION_DECODE_MS_PER_SEQ, REGION_EXTERNAL_SEQS, REGION_PENDING_SEQS,
  REGION_DECODE_POOL, REGION_DECODE_SAMPLE, REGION_DOMAIN, REGION_GROUP_MIN, REGION_HEALTHY,
  REGION_HOST, REGION_HOST_KV_FREE, REGION_KV_CAPACITY, REGION_MAX_SEQS,
  REGION_NUMA, REGION_PENDING_KV,
  REGION_PREFILL_MS_PER_TOKEN, REGION_QUEUED_PREFILL, REGION_REQUEST, REGION_ROLE,
  REGION_SLAB_MS_PER_BLOCK, REGION_TPOT_OBS, REGION_TPOT_OBS_AT, REGION_TTFT_OBS,
  REGION_TTFT_OBS_AT,
} from "./layout";
import { f64At, i32At, setF64 } from "./mem";
import { observedScale, pmax, pmin, ridingStep, transferMs, uncachedTokens } from "./model";
import { tieThreshold } from "./pick";
import { sampleMembers } from "./sample";

// Per-decision values, set by prepareDecode.
let reqKv: f64 = 0;
let now: f64 = 0;
let prompt: f64 = 0;
let output: f64 = 0;
let limitFrac: f64 = 0;
let ttftWeight: f64 = 0;
let tpotWeight: f64 = 0;
let maxAge: f64 = 0;
let localMax: f64 = 0;
let queueLimit: f64 = 0;
let costWeight: f64 = 0;
let interference: f64 = 0;
let xNvlink: f64 = 0;
let xPcie: f64 = 0;
let xCrossNuma: f64 = 0;
let xNetwork: f64 = 0; // globalMin + transfer(network)
let anyPrefill: bool = false;
let always: bool = false;
let conditional: bool = false;
let spillover: bool = false;
let sloOn: bool = false;
let ttftSlo: f64 = 0;
let tpotSlo: f64 = 0;
let sloBand: f64 = 0;
let penalty: f64 = 0;
/** Admission: the highest step a sequence may lift an endpoint to (Infinity without SLOs). */
let stepCeiling: f64 = Infinity;
/** batchMean (reference) of the members scoreMembers last scored: set there, read by scoreOne. */
let batchMean: f64 = 0;

export function prepareDecode(kv: f64, minAll: f64, at: f64): void {
  const cfg = base(REGION_CONFIG);
  const request = base(REGION_REQUEST);
  const mode = <i32>f64At(cfg, CFG_DISAGGREGATION);
  reqKv = kv;
  now = at;
  prompt = f64At(request, REQ_PROMPT_TOKENS);
  output = f64At(request, REQ_OUTPUT_TOKENS);
  limitFrac = f64At(cfg, CFG_DECODE_KV_USAGE_LIMIT);
  ttftWeight = f64At(cfg, CFG_TTFT_OBSERVED_WEIGHT);
  tpotWeight = f64At(cfg, CFG_TPOT_OBSERVED_WEIGHT);
  maxAge = f64At(cfg, CFG_TELEMETRY_MAX_AGE_MS);
  localMax = f64At(cfg, CFG_LOCAL_PREFILL_MAX_TOKENS);
  queueLimit = f64At(cfg, CFG_PREFILL_QUEUE_LIMIT_TOKENS);
  costWeight = f64At(cfg, CFG_COST_MS_PER_DOLLAR_HOUR);
  interference = f64At(cfg, CFG_INTERFERENCE_WEIGHT);
  xNvlink = transferMs(LINKCLASS_NVLINK, prompt);
  xPcie = transferMs(LINKCLASS_PCIE, prompt);
  xCrossNuma = transferMs(LINKCLASS_CROSS_NUMA, prompt);
  xNetwork = minAll + transferMs(LINKCLASS_NETWORK, prompt);
  anyPrefill = minAll < Infinity;
  always = mode == DISAGGREGATION_ALWAYS;
  conditional = mode == DISAGGREGATION_CONDITIONAL;
  spillover = f64At(cfg, CFG_ALLOW_SPILLOVER) != 0;
  ttftSlo = f64At(cfg, CFG_SLO_TTFT_MS);
  tpotSlo = f64At(cfg, CFG_SLO_TPOT_MS);
  sloBand = f64At(cfg, CFG_SLO_BAND);
  sloOn = ttftSlo > 0 && tpotSlo > 0;
  penalty = f64At(cfg, CFG_SLO_MISS_WEIGHT) * (ttftSlo + output * tpotSlo);
  stepCeiling = sloOn ? tpotSlo * (1 + sloBand) : Infinity;
}

/** Twin of sloRamp (reference): how much of an SLO miss a predicted value counts as. */
// @ts-ignore: decorator
@inline function sloRamp(x: f64, slo: f64): f64 {
  return pmin(1, pmax(0, (x / slo - (1 - sloBand)) / (2 * sloBand)));
}

// The decode view of the chosen endpoint (AssemblyScript has no cheap tuples).
export let viewStep: f64 = 0;
export let viewLocal: f64 = 0;
export let viewSelf: f64 = 0;
export let viewRemote: f64 = 0;
export let viewDecodeInterference: f64 = 0;
export let viewCost: f64 = 0;
export let viewUseRemote: bool = false;

/** Twin of tpotScale (reference): the observed TPOT factor on d's modelled step. */
// @ts-ignore: decorator
@inline function tpotScaleOf(d: i32): f64 {
  return observedScale(
    f64At(base(REGION_TPOT_OBS), d),
    f64At(base(REGION_TPOT_OBS_AT), d),
    tpotWeight,
    now,
    maxAge,
  );
}

/** cost(d) for a decode-eligible d; with `view` (a constant), also fills the view globals. */
// @ts-ignore: decorator
@inline function scoreOne(d: i32, kvNew: f64, kvLimit: f64, tpotScale: f64, view: bool): f64 {
  const baseMs = f64At(base(REGION_DECODE_BASE_MS), d);
  const perBlock = f64At(base(REGION_DECODE_MS_PER_BLOCK), d);
  const perSeq = f64At(base(REGION_DECODE_MS_PER_SEQ), d);
  const slabMs = f64At(base(REGION_SLAB_MS_PER_BLOCK), d);
  const seqs = f64At(base(REGION_ACTIVE_SEQS), d);
  const step = (baseMs + perBlock * kvNew + perSeq * (seqs + 1)) * tpotScale +
    pmax(0, kvNew - kvLimit) * slabMs;
  const kvNow = f64At(base(REGION_ACTIVE_KV), d);
  const stepNow = (baseMs + perBlock * kvNow + perSeq * seqs) * tpotScale +
    pmax(0, kvNow - kvLimit) * slabMs;
  const u = uncachedTokens(d, prompt);
  const ttftScale = observedScale(
    f64At(base(REGION_TTFT_OBS), d),
    f64At(base(REGION_TTFT_OBS_AT), d),
    ttftWeight,
    now,
    maxAge,
  );
  const q = f64At(base(REGION_QUEUED_PREFILL), d);
  const mpt = f64At(base(REGION_PREFILL_MS_PER_TOKEN), d);
  // Prefill cost: the request's own prefill time (never under the step it rides, plus half a
  // step of waiting: prefillTimeMs) plus the stall it imposes on d's decodes.
  const ownLocal = ridingStep((q + u) * mpt * ttftScale, stepNow);
  const stall = u * mpt;
  const considerRemote = always ? anyPrefill : conditional && anyPrefill && u >= localMax;
  // The stall placement can avoid (reference): d's batch with a remote path, else the mean.
  const prefillStall = interference * (considerRemote ? seqs : batchMean) * stall;
  const local = ownLocal + prefillStall;
  let remote = Infinity;
  let self = Infinity; // only read when remote is considered
  if (considerRemote) {
    const gm = base(REGION_GROUP_MIN);
    const host = i32At(base(REGION_HOST), d);
    let r = xNetwork;
    const dom = i32At(base(REGION_DOMAIN), d);
    if (dom >= 0) r = pmin(r, f64At(gm, dom) + xNvlink);
    const numaGroup = capDomains + host * capNumaPerHost + i32At(base(REGION_NUMA), d);
    r = pmin(r, f64At(gm, numaGroup) + xPcie);
    r = pmin(r, f64At(gm, capDomains + capHosts * capNumaPerHost + host) + xCrossNuma);
    r = r + step;
    // Prefill on d itself (prefillEligible(d); d is healthy): no transfer.
    self = (i32At(base(REGION_ROLE), d) & ROLE_PREFILL) != 0 && q <= queueLimit ? local : Infinity;
    remote = pmin(r, self);
  }
  // seatWaitMs (reference): requests beyond max_num_seqs wait for a finishing sequence.
  const seats = f64At(base(REGION_MAX_SEQS), d);
  const excess = seqs + 1 - seats;
  const seatWait = seats > 0 && excess > 0 ? excess * output * stepNow / seats : 0;
  // The delay the request's KV imposes on d's running sequences over its output.
  const decodeInterference = interference * seqs * output * (step - stepNow);
  const common = output * step + decodeInterference +
    f64At(base(REGION_COST_PER_HOUR), d) * costWeight + seatWait;
  let sloLocal: f64 = 0;
  let sloRemote: f64 = 0;
  let remoteLate: f64 = 0;
  let ownWeight: f64 = 1;
  if (sloOn) {
    const tpotMiss = sloRamp(step, tpotSlo);
    const before = sloRamp(stepNow, tpotSlo);
    const coRemote = seqs * pmax(0, tpotMiss - before);
    // Co-runners the local prefill's stall pushes past the TPOT SLO (reference: the
    // length-biased share x^2 / (2 + 2x + x^2) of those with fewer than stall / h tokens left).
    const scale = pmax(0, tpotSlo - step) * output;
    const x = stall > 0 ? (scale > 0 ? stall / scale : Infinity) : 0;
    const stalled = x == Infinity ? 1 : x * x / (2 + 2 * x + x * x);
    const coLocal = coRemote + seqs * (1 - tpotMiss) * stalled;
    remoteLate = sloRamp(remote + seatWait, ttftSlo);
    const localLate = sloRamp(ownLocal + seatWait, ttftSlo);
    sloLocal = penalty * (pmax(localLate, tpotMiss) + coLocal);
    sloRemote = penalty * (pmax(remoteLate, tpotMiss) + coRemote);
    ownWeight = 1 - (considerRemote ? pmin(localLate, remoteLate) : localLate);
  }
  const costLocal = ownLocal * ownWeight + prefillStall + common + sloLocal;
  const costRemote = considerRemote ? remote * ownWeight + common + sloRemote : Infinity;
  let useRemote: bool;
  let cost: f64;
  if (always) {
    if (anyPrefill) {
      useRemote = !(spillover && remoteLate > 0) || costRemote <= costLocal;
      cost = useRemote ? costRemote : costLocal;
    } else {
      useRemote = false;
      cost = spillover ? costLocal : Infinity;
    }
  } else {
    useRemote = costRemote < costLocal;
    cost = useRemote ? costRemote : costLocal;
  }
  if (view) {
    viewStep = step;
    viewLocal = local;
    viewSelf = self;
    viewRemote = remote;
    viewDecodeInterference = decodeInterference;
    viewCost = cost;
    viewUseRemote = useRemote;
  }
  return cost;
}

// The decode stage's members (AssemblyScript has no cheap tuples): set by scoreDecodeStage.
export let decodeMembers: usize = 0;
export let decodeCount: i32 = 0;

/**
 * The decode stage's pass over its members (the pool, or its sample under candidateSample):
 * cost[d] for each; returns the least. A sample with no eligible endpoint falls back to the
 * whole pool. Call prepareDecode first.
 */
export function scoreDecodeStage(draw: u32, touchedCount: i32): f64 {
  const pool = base(REGION_DECODE_POOL);
  const poolCount = i32At(base(REGION_COUNTERS), CTR_DECODE_POOL_COUNT);
  const sample = base(REGION_DECODE_SAMPLE);
  const sampled = sampleMembers(pool, poolCount, ROLE_DECODE, draw, touchedCount, sample);
  if (sampled >= 0) {
    const best = scoreMembers(sample, sampled);
    if (best < Infinity) {
      decodeMembers = sample;
      decodeCount = sampled;
      return best;
    }
  }
  decodeMembers = pool;
  decodeCount = poolCount;
  return scoreMembers(pool, poolCount);
}

/** Scores the first `count` endpoints of the list at `members`; returns the least cost. */
function scoreMembers(members: usize, count: i32): f64 {
  const cost = base(REGION_COST);
  let best = Infinity;
  let threshold = Infinity;
  // batchMean (reference): the healthy members' mean running batch, summed in member order.
  let sum: f64 = 0;
  let healthy: i32 = 0;
  for (let j = 0; j < count; j++) {
    const e = i32At(members, j);
    if (i32At(base(REGION_HEALTHY), e) == 0) continue;
    sum += f64At(base(REGION_ACTIVE_SEQS), e);
    healthy++;
  }
  batchMean = healthy > 0 ? sum / <f64>healthy : 0;
  for (let j = 0; j < count; j++) {
    const d = i32At(members, j);
    if (i32At(base(REGION_HEALTHY), d) == 0) {
      setF64(cost, d, Infinity);
      continue;
    }
    const kvNew = f64At(base(REGION_ACTIVE_KV), d) + reqKv;
    const kvLimit = f64At(base(REGION_KV_CAPACITY), d) * limitFrac;
    // fitsKv (reference): KV pending for requests still prefilling elsewhere does not count.
    const kvResident = f64At(base(REGION_ACTIVE_KV), d) - f64At(base(REGION_PENDING_KV), d) + reqKv;
    if (!(kvResident <= kvLimit + f64At(base(REGION_HOST_KV_FREE), d))) {
      setF64(cost, d, Infinity);
      continue;
    }
    const scale = tpotScaleOf(d);
    const seqs = f64At(base(REGION_ACTIVE_SEQS), d);
    const perSeq = f64At(base(REGION_DECODE_MS_PER_SEQ), d);
    // withinTpotSlo (reference): SLO admission on the model's step with the resident KV and
    // sequences; the observed factor and the external sequences can only release.
    if (sloOn) {
      const seqsResident = seqs - f64At(base(REGION_PENDING_SEQS), d) + 1;
      const baseMs = f64At(base(REGION_DECODE_BASE_MS), d);
      const modelStep = baseMs + f64At(base(REGION_DECODE_MS_PER_BLOCK), d) * kvResident +
        perSeq * seqsResident;
      const overflow = pmax(0, kvResident - kvLimit) * f64At(base(REGION_SLAB_MS_PER_BLOCK), d);
      const resident = modelStep + overflow;
      if (resident - stepCeiling > 0) {
        const excess = (modelStep * scale + overflow) - stepCeiling;
        if (excess > 0) {
          // Past the band: waiting helps only if enough placed sequences finish within the
          // TTFT SLO.
          const placed = pmax(0, seqsResident - f64At(base(REGION_EXTERNAL_SEQS), d));
          const drain = excess * output * resident * seqsResident /
            (pmax(0, resident - baseMs) * placed);
          if (drain <= ttftSlo) {
            setF64(cost, d, Infinity);
            continue;
          }
        }
      }
    }
    // decodeLowerBound (reference): no cost of d is below it; an endpoint whose bound is above
    // the tie threshold of the best so far cannot tie.
    const model = (f64At(base(REGION_DECODE_BASE_MS), d) +
      f64At(base(REGION_DECODE_MS_PER_BLOCK), d) * kvNew + perSeq * (seqs + 1)) * scale;
    const bound = output * model + f64At(base(REGION_COST_PER_HOUR), d) * costWeight;
    if (bound > threshold) {
      setF64(cost, d, Infinity);
      continue;
    }
    const c = scoreOne(d, kvNew, kvLimit, scale, false);
    setF64(cost, d, c);
    if (c < best) {
      best = c;
      threshold = tieThreshold(c);
    }
  }
  return best;
}

/** Fills the view globals for decode endpoint d (eligible). Call prepareDecode first. */
export function scoreDecodeView(d: i32): void {
  const kvNew = f64At(base(REGION_ACTIVE_KV), d) + reqKv;
  scoreOne(d, kvNew, f64At(base(REGION_KV_CAPACITY), d) * limitFrac, tpotScaleOf(d), true);
}
