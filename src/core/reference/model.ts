/**
 * The time model every score is built from (docs/POLICY.md, "Predicted times").
 * Each function is one formula; the AssemblyScript twins live in `assembly/model.ts` and
 * must perform the same floating-point operations in the same order.
 */
import { Cfg, LinkClass } from "../abi.ts";
import type { CoreState } from "../state.ts";

/**
 * The spec's max and min: `b` if it is strictly greater (smaller), else `a`. These are
 * WebAssembly's f64x2.pmax / pmin (one instruction each, where f64.max / min cost a branchy
 * NaN and signed-zero dance); they differ from Math.max / min only for NaN and signed zeros,
 * so both implementations agree bit for bit on any input.
 */
export function pmax(a: number, b: number): number {
  return a < b ? b : a;
}

export function pmin(a: number, b: number): number {
  return b < a ? b : a;
}

/**
 * The factor an observed/predicted ratio puts on the model: `1 + weight * (ratio - 1)` while
 * the observation is present (ratio > 0) and younger than `telemetryMaxAgeMs`, else 1. A
 * factor, not a floor, so the prediction still grows with the load it is given.
 */
export function observedScale(
  ratio: number,
  at: number,
  weight: number,
  now: number,
  maxAge: number,
): number {
  return ratio > 0 && now - at <= maxAge ? 1 + weight * (ratio - 1) : 1;
}

/**
 * Cached prefix tokens the request finds on `e`: its matched leading blocks, those held only in
 * the host tier at `hostTierCredit` (Dynamo's 0.75), times the block size.
 */
export function cachedTokens(s: CoreState, e: number): number {
  const hostDiscount = (1 - s.config[Cfg.HOST_TIER_CREDIT]) * s.matchedHost[e];
  return (s.matched[e] - hostDiscount) * s.config[Cfg.PREFIX_BLOCK_TOKENS];
}

/** Prompt tokens endpoint `e` must compute: the request minus its cached prefix there. */
export function uncachedTokens(s: CoreState, e: number, promptTokens: number): number {
  return pmax(0, promptTokens - cachedTokens(s, e));
}

/**
 * The model's prefill time for `uncached` tokens behind e's queue, before observed factors:
 * the compute, but never less than the decode step it rides (a chunked prefill shares its
 * step with e's running batch, whose KV read bounds the step from below), plus half a step of
 * waiting for the step in progress (docs/POLICY.md, "Predicted times").
 */
export function prefillModelMs(s: CoreState, e: number, uncached: number): number {
  const compute = (s.queuedPrefill[e] + uncached) * s.prefillMsPerToken[e];
  return ridingStep(compute, stepModelMs(s, e, s.activeKv[e], s.activeSeqs[e]));
}

/** A prefill's `compute` ms on an endpoint stepping at `step` ms: at least the step, + half. */
export function ridingStep(compute: number, step: number): number {
  return pmax(compute, step) + 0.5 * step;
}

/** Predicted time until `e` finishes prefilling `uncached` more tokens behind its queue. */
export function prefillTimeMs(s: CoreState, e: number, uncached: number, now: number): number {
  const compute = (s.queuedPrefill[e] + uncached) * s.prefillMsPerToken[e] * ttftScale(s, e, now);
  return ridingStep(compute, stepTimeMs(s, e, s.activeKv[e], s.activeSeqs[e], now));
}

/** The observed TTFT factor on `e`'s modelled prefill time. */
export function ttftScale(s: CoreState, e: number, now: number): number {
  return observedScale(
    s.ttftObs[e],
    s.ttftObsAt[e],
    s.config[Cfg.TTFT_OBSERVED_WEIGHT],
    now,
    s.config[Cfg.TELEMETRY_MAX_AGE_MS],
  );
}

/**
 * Delay a prefill of `uncached` tokens on `e` imposes on the sequences decoding there: each of
 * them stalls for the prefill's compute time (weighted by `interferenceWeight`).
 */
export function prefillInterferenceMs(s: CoreState, e: number, uncached: number): number {
  return s.config[Cfg.INTERFERENCE_WEIGHT] * s.activeSeqs[e] * (uncached * s.prefillMsPerToken[e]);
}

/**
 * Decode step of `e` with `kv` blocks resident over `seqs` sequences: the modelled GPU step
 * (base + per-block KV read + per-sequence work) times `scale`, plus the host-slab cost of the
 * KV beyond the usage limit.
 */
function stepAtScaleMs(s: CoreState, e: number, kv: number, seqs: number, scale: number): number {
  const overflow = pmax(0, kv - s.kvCapacity[e] * s.config[Cfg.DECODE_KV_USAGE_LIMIT]);
  return (s.decodeBaseMs[e] + s.decodeMsPerBlock[e] * kv + s.decodeMsPerSeq[e] * seqs) * scale +
    overflow * s.slabMsPerBlock[e];
}

/** The model's decode step before observed factors (x * 1 is exact, so no separate formula). */
export function stepModelMs(s: CoreState, e: number, kv: number, seqs: number): number {
  return stepAtScaleMs(s, e, kv, seqs, 1);
}

/** Predicted decode step of `e` with `kv` blocks over `seqs` sequences (host slab included). */
export function stepTimeMs(
  s: CoreState,
  e: number,
  kv: number,
  seqs: number,
  now: number,
): number {
  return stepAtScaleMs(s, e, kv, seqs, tpotScale(s, e, now));
}

/** The observed TPOT factor on `e`'s modelled decode step. */
export function tpotScale(s: CoreState, e: number, now: number): number {
  return observedScale(
    s.tpotObs[e],
    s.tpotObsAt[e],
    s.config[Cfg.TPOT_OBSERVED_WEIGHT],
    now,
    s.config[Cfg.TELEMETRY_MAX_AGE_MS],
  );
}

/**
 * Whether `e` can take `extraKv` more blocks (GPU up to the usage limit, then its host slab).
 * KV still pending (of requests prefilling elsewhere) does not count: it arrives later.
 */
export function fitsKv(s: CoreState, e: number, extraKv: number): boolean {
  return s.activeKv[e] - s.pendingKv[e] + extraKv <=
    s.kvCapacity[e] * s.config[Cfg.DECODE_KV_USAGE_LIMIT] + s.hostKvFree[e];
}

/** The link KV crosses from `p` to `d`: same GPU, NVLink domain, host/NUMA, or network. */
export function linkClass(s: CoreState, p: number, d: number): number {
  if (p === d) return LinkClass.SAME;
  const domain = s.domain[p];
  if (domain >= 0 && domain === s.domain[d]) return LinkClass.NVLINK;
  if (s.host[p] !== s.host[d]) return LinkClass.NETWORK;
  if (s.numa[p] === s.numa[d]) return LinkClass.PCIE;
  return LinkClass.CROSS_NUMA;
}

/** Time to move `tokens` tokens of KV over link class `link`. */
export function transferMs(cfg: Float64Array, link: number, tokens: number): number {
  switch (link) {
    case LinkClass.SAME:
      return 0;
    case LinkClass.NVLINK:
      return tokens * cfg[Cfg.XFER_MS_PER_TOKEN_NVLINK] + cfg[Cfg.XFER_LATENCY_MS_NVLINK];
    case LinkClass.PCIE:
      return tokens * cfg[Cfg.XFER_MS_PER_TOKEN_PCIE] + cfg[Cfg.XFER_LATENCY_MS_PCIE];
    case LinkClass.CROSS_NUMA:
      return tokens * cfg[Cfg.XFER_MS_PER_TOKEN_CROSS_NUMA] + cfg[Cfg.XFER_LATENCY_MS_CROSS_NUMA];
    default:
      return tokens * cfg[Cfg.XFER_MS_PER_TOKEN_NETWORK] + cfg[Cfg.XFER_LATENCY_MS_NETWORK];
  }
}

/**
 * How much of an SLO miss a predicted value `x` counts as: 0 below (1 - band) x slo, 1 above
 * (1 + band) x slo, linear between (docs/POLICY.md, "SLO terms"). `slo` > 0.
 */
export function sloRamp(x: number, slo: number, band: number): number {
  return pmin(1, pmax(0, (x / slo - (1 - band)) / (2 * band)));
}

/**
 * Expected wait for a seat on d when its sequences fill `maxSeqs` (vLLM's max_num_seqs): the
 * requests beyond the limit wait, each for one of the running sequences to finish, which
 * happens about every `output * step / maxSeqs` ms. 0 when the limit is unknown (0) or not
 * reached.
 */
export function seatWaitMs(s: CoreState, d: number, output: number, stepNow: number): number {
  const seats = s.maxSeqs[d];
  const excess = s.activeSeqs[d] + 1 - seats;
  return seats > 0 && excess > 0 ? excess * output * stepNow / seats : 0;
}
