// The time model (docs/POLICY.md, "Predicted times"): twins of src/core/reference/model.ts,
// performing the same floating-point operations in the same order.

import {
  CFG_DECODE_KV_USAGE_LIMIT,
  CFG_HOST_TIER_CREDIT,
  CFG_PREFIX_BLOCK_TOKENS,
  CFG_TELEMETRY_MAX_AGE_MS,
  CFG_TPOT_OBSERVED_WEIGHT,
  CFG_TTFT_OBSERVED_WEIGHT,
  CFG_XFER_LATENCY_MS_CROSS_NUMA,
  CFG_XFER_LATENCY_MS_NETWORK,
  CFG_XFER_LATENCY_MS_NVLINK,
  CFG_XFER_LATENCY_MS_PCIE,
  CFG_XFER_MS_PER_TOKEN_CROSS_NUMA,
  CFG_XFER_MS_PER_TOKEN_NETWORK,
  CFG_XFER_MS_PER_TOKEN_NVLINK,
  CFG_XFER_MS_PER_TOKEN_PCIE,
  LINKCLASS_CROSS_NUMA,
  LINKCLASS_NETWORK,
  LINKCLASS_NVLINK,
  LINKCLASS_PCIE,
  LINKCLASS_SAME,
} from "./abi";
import {
  base,
  REGION_ACTIVE_KV,
  REGION_ACTIVE_SEQS,
  REGION_CONFIG,
  REGION_DECODE_BASE_MS,
  REGION_DECODE_MS_PER_BLOCK,
  REGION_DECODE_MS_PER_SEQ,
  REGION_DOMAIN,
  REGION_HOST,
  REGION_HOST_KV_FREE,
  REGION_KV_CAPACITY,
  REGION_MATCHED,
  REGION_MATCHED_HOST,
  REGION_NUMA,
  REGION_PREFILL_MS_PER_TOKEN,
  REGION_QUEUED_PREFILL,
  REGION_SLAB_MS_PER_BLOCK,
  REGION_TPOT_OBS,
  REGION_TPOT_OBS_AT,
  REGION_TTFT_OBS,
  REGION_TTFT_OBS_AT,
} from "./layout";
import { f64At, i32At } from "./mem";

// The spec's max and min (twins of pmax / pmin in model.ts): `b` if strictly greater
// (smaller), else `a`. Scalar twins of f64x2.pmax / pmin; f64.max / min would differ on
// signed zeros and NaN.
// @ts-ignore: decorator
@inline export function pmax(a: f64, b: f64): f64 {
  return a < b ? b : a;
}

// @ts-ignore: decorator
@inline export function pmin(a: f64, b: f64): f64 {
  return b < a ? b : a;
}

// @ts-ignore: decorator
@inline export function observedScale(ratio: f64, at: f64, weight: f64, now: f64, maxAge: f64): f64 {
  return ratio > 0 && now - at <= maxAge ? 1 + weight * (ratio - 1) : 1;
}

/** Twin of cachedTokens: matched blocks, host-tier ones at the host credit, in tokens. */
// @ts-ignore: decorator
@inline export function cachedTokens(e: i32): f64 {
  const cfg = base(REGION_CONFIG);
  const hostDiscount = (1 - f64At(cfg, CFG_HOST_TIER_CREDIT)) *
    <f64>i32At(base(REGION_MATCHED_HOST), e);
  return (<f64>i32At(base(REGION_MATCHED), e) - hostDiscount) *
    f64At(cfg, CFG_PREFIX_BLOCK_TOKENS);
}

// @ts-ignore: decorator
@inline export function uncachedTokens(e: i32, prompt: f64): f64 {
  return pmax(0, prompt - cachedTokens(e));
}

/** Twin of prefillModelMs: the model's prefill time (compute, step floor), before factors. */
export function prefillModelMs(e: i32, uncached: f64): f64 {
  const compute = (f64At(base(REGION_QUEUED_PREFILL), e) + uncached) *
    f64At(base(REGION_PREFILL_MS_PER_TOKEN), e);
  return ridingStep(
    compute,
    stepModelMs(e, f64At(base(REGION_ACTIVE_KV), e), f64At(base(REGION_ACTIVE_SEQS), e)),
  );
}

/** Twin of ridingStep: a prefill's compute on an endpoint stepping at `step`. */
// @ts-ignore: decorator
@inline export function ridingStep(compute: f64, step: f64): f64 {
  return pmax(compute, step) + 0.5 * step;
}

/** Twin of prefillTimeMs: with the observed factors. */
export function prefillTimeMs(e: i32, uncached: f64, now: f64): f64 {
  const compute = (f64At(base(REGION_QUEUED_PREFILL), e) + uncached) *
    f64At(base(REGION_PREFILL_MS_PER_TOKEN), e) * ttftScale(e, now);
  return ridingStep(
    compute,
    stepTimeMs(e, f64At(base(REGION_ACTIVE_KV), e), f64At(base(REGION_ACTIVE_SEQS), e), now),
  );
}

/** Twin of ttftScale: the observed TTFT factor on e's modelled prefill time. */
export function ttftScale(e: i32, now: f64): f64 {
  const cfg = base(REGION_CONFIG);
  return observedScale(
    f64At(base(REGION_TTFT_OBS), e),
    f64At(base(REGION_TTFT_OBS_AT), e),
    f64At(cfg, CFG_TTFT_OBSERVED_WEIGHT),
    now,
    f64At(cfg, CFG_TELEMETRY_MAX_AGE_MS),
  );
}

/** Twin of prefillInterferenceMs: the stall a prefill imposes on e's decoding sequences. */
export function prefillInterferenceMs(e: i32, uncached: f64): f64 {
  return f64At(base(REGION_CONFIG), CFG_INTERFERENCE_WEIGHT) * f64At(base(REGION_ACTIVE_SEQS), e) *
    (uncached * f64At(base(REGION_PREFILL_MS_PER_TOKEN), e));
}

/** Twin of stepAtScaleMs: the modelled step (base, per block, per sequence) times `scale`,
 * plus host-slab overflow. */
function stepAtScaleMs(e: i32, kv: f64, seqs: f64, scale: f64): f64 {
  const overflow = pmax(
    0,
    kv - f64At(base(REGION_KV_CAPACITY), e) * f64At(base(REGION_CONFIG), CFG_DECODE_KV_USAGE_LIMIT),
  );
  return (f64At(base(REGION_DECODE_BASE_MS), e) + f64At(base(REGION_DECODE_MS_PER_BLOCK), e) * kv +
    f64At(base(REGION_DECODE_MS_PER_SEQ), e) * seqs) * scale +
    overflow * f64At(base(REGION_SLAB_MS_PER_BLOCK), e);
}

/** Twin of stepModelMs: the model's decode step, before observed factors. */
export function stepModelMs(e: i32, kv: f64, seqs: f64): f64 {
  return stepAtScaleMs(e, kv, seqs, 1);
}

export function stepTimeMs(e: i32, kv: f64, seqs: f64, now: f64): f64 {
  return stepAtScaleMs(e, kv, seqs, tpotScale(e, now));
}

/** Twin of tpotScale: the observed TPOT factor on e's modelled decode step. */
export function tpotScale(e: i32, now: f64): f64 {
  const cfg = base(REGION_CONFIG);
  return observedScale(
    f64At(base(REGION_TPOT_OBS), e),
    f64At(base(REGION_TPOT_OBS_AT), e),
    f64At(cfg, CFG_TPOT_OBSERVED_WEIGHT),
    now,
    f64At(cfg, CFG_TELEMETRY_MAX_AGE_MS),
  );
}

export function fitsKv(e: i32, extraKv: f64): bool {
  return f64At(base(REGION_ACTIVE_KV), e) + extraKv <=
    f64At(base(REGION_KV_CAPACITY), e) * f64At(base(REGION_CONFIG), CFG_DECODE_KV_USAGE_LIMIT) +
      f64At(base(REGION_HOST_KV_FREE), e);
}

export function linkClass(p: i32, d: i32): i32 {
  if (p == d) return LINKCLASS_SAME;
  const domain = i32At(base(REGION_DOMAIN), p);
  if (domain >= 0 && domain == i32At(base(REGION_DOMAIN), d)) return LINKCLASS_NVLINK;
  if (i32At(base(REGION_HOST), p) != i32At(base(REGION_HOST), d)) return LINKCLASS_NETWORK;
  if (i32At(base(REGION_NUMA), p) == i32At(base(REGION_NUMA), d)) return LINKCLASS_PCIE;
  return LINKCLASS_CROSS_NUMA;
}

export function transferMs(link: i32, tokens: f64): f64 {
  const cfg = base(REGION_CONFIG);
  switch (link) {
    case LINKCLASS_SAME:
      return 0;
    case LINKCLASS_NVLINK:
      return tokens * f64At(cfg, CFG_XFER_MS_PER_TOKEN_NVLINK) +
        f64At(cfg, CFG_XFER_LATENCY_MS_NVLINK);
    case LINKCLASS_PCIE:
      return tokens * f64At(cfg, CFG_XFER_MS_PER_TOKEN_PCIE) + f64At(cfg, CFG_XFER_LATENCY_MS_PCIE);
    case LINKCLASS_CROSS_NUMA:
      return tokens * f64At(cfg, CFG_XFER_MS_PER_TOKEN_CROSS_NUMA) +
        f64At(cfg, CFG_XFER_LATENCY_MS_CROSS_NUMA);
    default:
      return tokens * f64At(cfg, CFG_XFER_MS_PER_TOKEN_NETWORK) +
        f64At(cfg, CFG_XFER_LATENCY_MS_NETWORK);
  }
}
