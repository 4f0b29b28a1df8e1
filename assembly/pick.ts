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

/** Index of the chosen candidate in cost[0..n), or -1 when `best` (their minimum) is +Inf. */
export function pickNearMinimum(n: i32, best: f64, draw: u32): i32 {
  if (best == Infinity) return -1;
  const costs = base(REGION_COST);
  const candidates = base(REGION_CANDIDATES);
  const threshold = tieThreshold(best);
  let count = 0;
  for (let i = 0; i < n; i++) if (f64At(costs, i) <= threshold) setI32(candidates, count++, i);
  return i32At(candidates, <i32>(draw % <u32>count));
}
