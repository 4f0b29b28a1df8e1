/**
 * The role pools: the endpoints whose role includes prefill (decode), ascending. Derived from
 * the role column by the host-side writers whenever a role changes, so the deciders visit
 * only the endpoints that can serve a stage (a dual-pool fleet halves each pass). Embedders
 * writing roles directly call the core's `rebuildPools()` instead.
 */
import { Ctr, Role } from "./abi.ts";
import type { CoreState } from "./state.ts";

/** Moves endpoint `e` between pools after its role changed from `before` to `after`. */
export function updatePools(s: CoreState, e: number, before: number, after: number): void {
  update(s, s.prefillPool, Ctr.PREFILL_POOL_COUNT, e, before & Role.PREFILL, after & Role.PREFILL);
  update(s, s.decodePool, Ctr.DECODE_POOL_COUNT, e, before & Role.DECODE, after & Role.DECODE);
}

function update(
  s: CoreState,
  pool: Int32Array,
  countSlot: number,
  e: number,
  was: number,
  is: number,
): void {
  if ((was !== 0) === (is !== 0)) return;
  const count = s.counters[countSlot];
  const at = lowerBound(pool, count, e);
  if (is !== 0) {
    pool.copyWithin(at + 1, at, count);
    pool[at] = e;
    s.counters[countSlot] = count + 1;
  } else {
    pool.copyWithin(at, at + 1, count);
    pool[count - 1] = 0;
    s.counters[countSlot] = count - 1;
  }
}

/** First position in pool[0..count) holding a value >= e. */
function lowerBound(pool: Int32Array, count: number, e: number): number {
  let lo = 0, hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pool[mid] < e) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
