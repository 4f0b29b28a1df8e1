/**
 * The prefill stage's pool pass (docs/POLICY.md, "Routing", step 1), TS reference: the
 * prefill cost of every prefill endpoint (predicted prefill time plus the stall it imposes on
 * the endpoint's own decoding sequences) and the group minima that make "best remote prefill
 * for decode endpoint d" an O(1) lookup.
 */
import { Cfg, Ctr, LinkClass, Role } from "../abi.ts";
import type { CoreState } from "../state.ts";
import { pmin, prefillInterferenceMs, prefillTimeMs, transferMs, uncachedTokens } from "./model.ts";
import { type Members, sampleMembers } from "./sample.ts";

export function prefillEligible(s: CoreState, e: number): boolean {
  return s.healthy[e] !== 0 && (s.role[e] & Role.PREFILL) !== 0 &&
    s.queuedPrefill[e] <= s.config[Cfg.PREFILL_QUEUE_LIMIT_TOKENS];
}

/** Prefill cost on e: its predicted prefill time plus the stall it imposes on e's decodes. */
export function prefillCostMs(s: CoreState, e: number, uncached: number, now: number): number {
  return prefillTimeMs(s, e, uncached, now) + prefillInterferenceMs(s, e, uncached);
}

/**
 * Fills `prefillTime[p]` (p's prefill cost) for the first `count` endpoints of `members` (+Infinity when p cannot
 * prefill); returns the minimum.
 */
export function scorePrefillPool(
  s: CoreState,
  members: Int32Array,
  count: number,
  prompt: number,
  now: number,
): number {
  let minAll = Infinity;
  for (let j = 0; j < count; j++) {
    const e = members[j];
    const t = prefillEligible(s, e)
      ? prefillCostMs(s, e, uncachedTokens(s, e, prompt), now)
      : Infinity;
    s.prefillTime[e] = t;
    if (t < minAll) minAll = t;
  }
  return minAll;
}

/**
 * The prefill stage's pass over its members (the prefill pool, or its sample under
 * `candidateSample`); sets `members` and returns the least t. A sample with no eligible
 * endpoint falls back to the whole pool: sampling never turns capacity away.
 */
export function scorePrefillStage(
  s: CoreState,
  members: Members,
  prompt: number,
  now: number,
  draw: number,
  touchedCount: number,
): number {
  const pool = s.prefillPool;
  const poolCount = s.counters[Ctr.PREFILL_POOL_COUNT];
  const sampled = sampleMembers(
    s,
    pool,
    poolCount,
    Role.PREFILL,
    draw,
    touchedCount,
    s.prefillSample,
  );
  if (sampled >= 0) {
    const minAll = scorePrefillPool(s, s.prefillSample, sampled, prompt, now);
    if (minAll < Infinity) {
      members.list = s.prefillSample;
      members.count = sampled;
      return minAll;
    }
  }
  members.list = pool;
  members.count = poolCount;
  return scorePrefillPool(s, pool, poolCount, prompt, now);
}

/** Slot of e's (host, NUMA node) group and of its host group in `groupMin`. */
export function numaGroup(s: CoreState, e: number): number {
  return s.limits.domains + s.host[e] * s.limits.numaPerHost + s.numa[e];
}

export function hostGroup(s: CoreState, e: number): number {
  return s.limits.domains + s.limits.hosts * s.limits.numaPerHost + s.host[e];
}

/**
 * Group minima of `prefillTime` per NVLink domain, per (host, NUMA node) and per host, over
 * the endpoints that can beat the global term: p with t[p] + transfer(nvlink) >= minAll +
 * transfer(network) loses to the global best over every link, so it is left out. `groupMin`
 * is +Infinity between decisions; the groups lowered here are listed in `groupTouched` for
 * `clearGroups`. Returns their count.
 */
export function scoreGroups(
  s: CoreState,
  members: Int32Array,
  count: number,
  prompt: number,
  minAll: number,
): number {
  const cutoff = minAll + transferMs(s.config, LinkClass.NETWORK, prompt);
  const nvlink = transferMs(s.config, LinkClass.NVLINK, prompt);
  let touched = 0;
  for (let j = 0; j < count; j++) {
    const e = members[j];
    const t = s.prefillTime[e];
    if (!(t + nvlink < cutoff)) continue;
    if (s.domain[e] >= 0) touched = lowerGroup(s, s.domain[e], t, touched);
    touched = lowerGroup(s, numaGroup(s, e), t, touched);
    touched = lowerGroup(s, hostGroup(s, e), t, touched);
  }
  return touched;
}

function lowerGroup(s: CoreState, g: number, t: number, touched: number): number {
  if (!(t < s.groupMin[g])) return touched;
  if (s.groupMin[g] === Infinity) s.groupTouched[touched++] = g;
  s.groupMin[g] = t;
  return touched;
}

export function clearGroups(s: CoreState, touched: number): void {
  for (let i = 0; i < touched; i++) s.groupMin[s.groupTouched[i]] = Infinity;
}

/**
 * Best prefill cost for decode endpoint d via a remote prefill, or d's own prefill cost
 * `self` (+Infinity when d cannot prefill): exact, via the group minima.
 */
export function remoteTtft(
  s: CoreState,
  d: number,
  step: number,
  minAll: number,
  prompt: number,
  self: number,
): number {
  const cfg = s.config;
  const gm = s.groupMin;
  let r = minAll + transferMs(cfg, LinkClass.NETWORK, prompt);
  const dom = s.domain[d];
  if (dom >= 0) r = pmin(r, gm[dom] + transferMs(cfg, LinkClass.NVLINK, prompt));
  r = pmin(r, gm[numaGroup(s, d)] + transferMs(cfg, LinkClass.PCIE, prompt));
  r = pmin(r, gm[hostGroup(s, d)] + transferMs(cfg, LinkClass.CROSS_NUMA, prompt));
  r = r + step;
  // Prefill on d itself: no transfer, and the first token comes out of the prefill.
  return pmin(r, self);
}
