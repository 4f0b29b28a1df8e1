/**
 * Candidate sampling (docs/POLICY.md, "Candidate sampling"), TS reference: which endpoints
 * of a pool a stage scores when `candidateSample` = k > 0 and the pool holds more than k.
 */
import { Cfg, mix32, SAMPLE_STRIDE } from "../abi.ts";
import type { CoreState } from "../state.ts";

/** The endpoints a stage scores: the first `count` of `list` (a pool, or its sample). */
export interface Members {
  list: Int32Array;
  count: number;
}

/**
 * Lists in `out` the pool's endpoints with a prefix hit (in `touched` order), then k pool
 * positions from mix32(draw) mod m in steps of SAMPLE_STRIDE mod m, skipping hits (listed
 * already). Returns how many, or -1 when the stage scores the whole pool.
 */
export function sampleMembers(
  s: CoreState,
  pool: Int32Array,
  poolCount: number,
  roleBit: number,
  draw: number,
  touchedCount: number,
  out: Int32Array,
): number {
  const k = s.config[Cfg.CANDIDATE_SAMPLE];
  if (k === 0 || poolCount <= k) return -1;
  let count = 0;
  for (let i = 0; i < touchedCount; i++) {
    const e = s.touched[i];
    if ((s.role[e] & roleBit) !== 0) out[count++] = e;
  }
  const stride = SAMPLE_STRIDE % poolCount;
  let at = mix32(draw) % poolCount;
  for (let i = 0; i < k; i++) {
    const e = pool[at];
    if (s.matched[e] === 0) out[count++] = e;
    at += stride;
    if (at >= poolCount) at -= poolCount;
  }
  return count;
}
