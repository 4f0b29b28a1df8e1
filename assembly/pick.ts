// Near-minimum pick: twin of src/core/reference/pick.ts. Every candidate within
// max(tieWindowMs, tieWindowRelative * best) of the best cost is a tie; the host's draw picks.

import { CFG_TIE_WINDOW_MS, CFG_TIE_WINDOW_RELATIVE } from "./abi";
import { base, REGION_CANDIDATES, REGION_CONFIG, REGION_COST } from "./layout";
import { f64At, i32At, setI32 } from "./mem";
import { pmax } from "./model";

/** The largest cost that ties with `best`. */
// @ts-ignore: decorator
@inline export function tieThreshold(best: f64): f64 {
  const cfg = base(REGION_CONFIG);
  return best + pmax(f64At(cfg, CFG_TIE_WINDOW_MS), f64At(cfg, CFG_TIE_WINDOW_RELATIVE) * best);
}

/**
 * The chosen endpoint among the first `count` of the list at `members` by cost[e], or -1 when
 * `best` (their least cost) is +Infinity. The ties are listed in candidates, in member order.
 */
export function pickNearMinimum(members: usize, count: i32, best: f64, draw: u32): i32 {
  if (best == Infinity) return -1;
  const costs = base(REGION_COST);
  const candidates = base(REGION_CANDIDATES);
  const threshold = tieThreshold(best);
  let ties = 0;
  for (let j = 0; j < count; j++) {
    const e = i32At(members, j);
    if (f64At(costs, e) <= threshold) setI32(candidates, ties++, e);
  }
  return i32At(candidates, <i32>(draw % <u32>ties));
}
