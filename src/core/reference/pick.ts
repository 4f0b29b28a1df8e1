/**
 * Near-minimum pick: every candidate within max(tieWindowMs, tieWindowRelative * best) of the
 * best cost is a tie, and the host's draw picks among them. No index is favoured, so equal
 * endpoints never herd traffic onto the lowest-numbered one.
 */
import { Cfg } from "../abi.ts";
import { pmax } from "./model.ts";

/** The largest cost that ties with `best`. */
export function tieThreshold(cfg: Float64Array, best: number): number {
  return best + pmax(cfg[Cfg.TIE_WINDOW_MS], cfg[Cfg.TIE_WINDOW_RELATIVE] * best);
}

/**
 * The chosen endpoint among the first `count` of `members` by `costs[e]`, or -1 when `best` is
 * +Infinity. `best` is their least cost, which the callers know from the pass that computed
 * the costs. The ties are listed in `candidates`, in member order.
 */
export function pickNearMinimum(
  costs: Float64Array,
  members: Int32Array,
  count: number,
  candidates: Int32Array,
  cfg: Float64Array,
  best: number,
  draw: number,
): number {
  if (best === Infinity) return -1;
  const threshold = tieThreshold(cfg, best);
  let ties = 0;
  for (let j = 0; j < count; j++) {
    const e = members[j];
    if (costs[e] <= threshold) candidates[ties++] = e;
  }
  return candidates[(draw >>> 0) % ties];
}
