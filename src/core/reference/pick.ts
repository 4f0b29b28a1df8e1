/**
 * Near-minimum pick: every candidate within max(tieWindowMs, tieWindowRelative * best) of the
 * best cost is a tie, and the host's draw picks among them. No index is favoured, so equal
 * endpoints never herd traffic onto the lowest-numbered one.
 */
import { Cfg } from "../abi.ts";

/** Index of the chosen candidate in costs[0..n), or -1 when every cost is +Infinity. */
export function pickNearMinimum(
  costs: Float64Array,
  n: number,
  candidates: Int32Array,
  cfg: Float64Array,
  draw: number,
): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) if (costs[i] < best) best = costs[i];
  if (best === Infinity) return -1;
  const threshold = best + Math.max(cfg[Cfg.TIE_WINDOW_MS], cfg[Cfg.TIE_WINDOW_RELATIVE] * best);
  let count = 0;
  for (let i = 0; i < n; i++) if (costs[i] <= threshold) candidates[count++] = i;
  return candidates[(draw >>> 0) % count];
}
