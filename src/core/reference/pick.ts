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
 * Index of the chosen candidate in costs[0..n), or -1 when `best` is +Infinity. `best` is the
 * minimum of the costs, which the callers know from the pass that computed them.
 */
export function pickNearMinimum(
  costs: Float64Array,
  n: number,
  candidates: Int32Array,
  cfg: Float64Array,
  best: number,
  draw: number,
): number {
  if (best === Infinity) return -1;
  const threshold = tieThreshold(cfg, best);
  let count = 0;
  for (let i = 0; i < n; i++) if (costs[i] <= threshold) candidates[count++] = i;
  return candidates[(draw >>> 0) % count];
}
