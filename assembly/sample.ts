// Candidate sampling: twin of src/core/reference/sample.ts (read it for the rule).

import { CFG_CANDIDATE_SAMPLE, SAMPLE_STRIDE } from "./abi";
import { base, REGION_CONFIG, REGION_MATCHED, REGION_ROLE, REGION_TOUCHED } from "./layout";
import { f64At, i32At, setI32 } from "./mem";
import { mix32 } from "./mix";

/**
 * Lists at `out` the pool's endpoints with a prefix hit, then k sampled pool positions
 * (skipping hits). Returns how many, or -1 when the stage scores the whole pool.
 */
export function sampleMembers(
  pool: usize,
  poolCount: i32,
  roleBit: i32,
  draw: u32,
  touchedCount: i32,
  out: usize,
): i32 {
  const k = <i32>f64At(base(REGION_CONFIG), CFG_CANDIDATE_SAMPLE);
  if (k == 0 || poolCount <= k) return -1;
  const touched = base(REGION_TOUCHED);
  const role = base(REGION_ROLE);
  const matched = base(REGION_MATCHED);
  let count = 0;
  for (let i = 0; i < touchedCount; i++) {
    const e = i32At(touched, i);
    if ((i32At(role, e) & roleBit) != 0) setI32(out, count++, e);
  }
  const stride = <i32>(SAMPLE_STRIDE % <u32>poolCount);
  let at = <i32>(mix32(draw) % <u32>poolCount);
  for (let i = 0; i < k; i++) {
    const e = i32At(pool, at);
    if (i32At(matched, e) == 0) setI32(out, count++, e);
    at += stride;
    if (at >= poolCount) at -= poolCount;
  }
  return count;
}
