// The prefill stage's pool pass: twin of src/core/reference/prefill_pool.ts (read its
// comments for the why). remoteTtft, the lookup side, is inlined into decode_pool.ts.

import {
  CFG_INTERFERENCE_WEIGHT, CFG_PREFILL_QUEUE_LIMIT_TOKENS, CTR_PREFILL_POOL_COUNT, LINKCLASS_NETWORK, LINKCLASS_NVLINK,
  ROLE_PREFILL,
} from "./abi";
import {
  base, capDomains, capHosts, capNumaPerHost, REGION_ACTIVE_SEQS, REGION_CONFIG, REGION_COUNTERS, REGION_DOMAIN,
  REGION_GROUP_MIN, REGION_GROUP_TOUCHED, REGION_HEALTHY, REGION_HOST,
  REGION_NUMA, REGION_PREFILL_MS_PER_TOKEN, REGION_PREFILL_POOL, REGION_PREFILL_SAMPLE,
  REGION_PREFILL_TIME, REGION_QUEUED_PREFILL,
} from "./layout";
import { f64At, i32At, setF64, setI32 } from "./mem";
import { prefillTimeMs, transferMs, uncachedTokens } from "./model";
import { sampleMembers } from "./sample";

/**
 * Fills prefillTime[p] with p's prefill cost (prefill time plus the stall of p's own decodes)
 * for the first `count` endpoints of the list at `members` (+Infinity when p cannot
 * prefill); returns the minimum.
 */
export function scorePrefillPool(members: usize, count: i32, prompt: f64, now: f64): f64 {
  const cfg = base(REGION_CONFIG);
  const healthy = base(REGION_HEALTHY);
  const queued = base(REGION_QUEUED_PREFILL);
  const msPerToken = base(REGION_PREFILL_MS_PER_TOKEN);
  const prefillTime = base(REGION_PREFILL_TIME);
  const activeSeqs = base(REGION_ACTIVE_SEQS);
  const interference = f64At(cfg, CFG_INTERFERENCE_WEIGHT);
  const queueLimit = f64At(cfg, CFG_PREFILL_QUEUE_LIMIT_TOKENS);
  let minAll = Infinity;
  for (let j = 0; j < count; j++) {
    const e = i32At(members, j);
    const q = f64At(queued, e);
    // prefillEligible(e); members are prefill-pool endpoints, so the role needs no check.
    if (i32At(healthy, e) == 0 || !(q <= queueLimit)) {
      setF64(prefillTime, e, Infinity);
      continue;
    }
    const u = uncachedTokens(e, prompt);
    const mpt = f64At(msPerToken, e);
    const t = prefillTimeMs(e, u, now) + interference * f64At(activeSeqs, e) * (u * mpt);
    setF64(prefillTime, e, t);
    if (t < minAll) minAll = t;
  }
  return minAll;
}

// The prefill stage's members (AssemblyScript has no cheap tuples): set by scorePrefillStage.
export let prefillMembers: usize = 0;
export let prefillCount: i32 = 0;

/**
 * The prefill stage's pass over its members (the pool, or its sample under candidateSample);
 * returns the least t. A sample with no eligible endpoint falls back to the whole pool.
 */
export function scorePrefillStage(prompt: f64, now: f64, draw: u32, touchedCount: i32): f64 {
  const pool = base(REGION_PREFILL_POOL);
  const poolCount = i32At(base(REGION_COUNTERS), CTR_PREFILL_POOL_COUNT);
  const sample = base(REGION_PREFILL_SAMPLE);
  const sampled = sampleMembers(pool, poolCount, ROLE_PREFILL, draw, touchedCount, sample);
  if (sampled >= 0) {
    const minAll = scorePrefillPool(sample, sampled, prompt, now);
    if (minAll < Infinity) {
      prefillMembers = sample;
      prefillCount = sampled;
      return minAll;
    }
  }
  prefillMembers = pool;
  prefillCount = poolCount;
  return scorePrefillPool(pool, poolCount, prompt, now);
}

/**
 * Group minima over the prefill endpoints that can beat the global term; lists the groups
 * it lowers in groupTouched and returns their count.
 */
export function scoreGroups(members: usize, count: i32, prompt: f64, minAll: f64): i32 {
  const prefillTime = base(REGION_PREFILL_TIME);
  const domainCol = base(REGION_DOMAIN);
  const hostCol = base(REGION_HOST);
  const numaCol = base(REGION_NUMA);
  const cutoff = minAll + transferMs(LINKCLASS_NETWORK, prompt);
  const nvlink = transferMs(LINKCLASS_NVLINK, prompt);
  const numaBase = capDomains;
  const hostBase = capDomains + capHosts * capNumaPerHost;
  let touched = 0;
  for (let j = 0; j < count; j++) {
    const e = i32At(members, j);
    const t = f64At(prefillTime, e);
    if (!(t + nvlink < cutoff)) continue;
    const dom = i32At(domainCol, e);
    if (dom >= 0) touched = lowerGroup(dom, t, touched);
    const host = i32At(hostCol, e);
    touched = lowerGroup(numaBase + host * capNumaPerHost + i32At(numaCol, e), t, touched);
    touched = lowerGroup(hostBase + host, t, touched);
  }
  return touched;
}

// @ts-ignore: decorator
@inline function lowerGroup(g: i32, t: f64, touched: i32): i32 {
  const gm = base(REGION_GROUP_MIN);
  const old = f64At(gm, g);
  if (!(t < old)) return touched;
  if (old == Infinity) setI32(base(REGION_GROUP_TOUCHED), touched++, g);
  setF64(gm, g, t);
  return touched;
}

export function clearGroups(touched: i32): void {
  const gm = base(REGION_GROUP_MIN);
  const list = base(REGION_GROUP_TOUCHED);
  for (let i = 0; i < touched; i++) setF64(gm, i32At(list, i), Infinity);
}
