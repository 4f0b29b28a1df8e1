// The role pools: twin of src/core/pools.ts, for embedders that write roles directly. The
// Deno wrapper keeps the pools in step incrementally; this rebuilds them from the role column.

import { CTR_DECODE_POOL_COUNT, CTR_ENDPOINT_COUNT, CTR_PREFILL_POOL_COUNT, ROLE_DECODE, ROLE_PREFILL } from "./abi";
import { base, REGION_COUNTERS, REGION_DECODE_POOL, REGION_PREFILL_POOL, REGION_ROLE } from "./layout";
import { i32At, setI32 } from "./mem";

/** Lists the endpoints whose role includes prefill (decode), ascending. */
export function rebuildPools(): void {
  const counters = base(REGION_COUNTERS);
  const role = base(REGION_ROLE);
  const prefillPool = base(REGION_PREFILL_POOL);
  const decodePool = base(REGION_DECODE_POOL);
  const n = i32At(counters, CTR_ENDPOINT_COUNT);
  const oldPrefill = i32At(counters, CTR_PREFILL_POOL_COUNT);
  const oldDecode = i32At(counters, CTR_DECODE_POOL_COUNT);
  let prefill = 0;
  let decode = 0;
  for (let e = 0; e < n; e++) {
    const r = i32At(role, e);
    if ((r & ROLE_PREFILL) != 0) setI32(prefillPool, prefill++, e);
    if ((r & ROLE_DECODE) != 0) setI32(decodePool, decode++, e);
  }
  // Past the count the pools hold zeros, as the incremental writers leave them.
  for (let j = prefill; j < oldPrefill; j++) setI32(prefillPool, j, 0);
  for (let j = decode; j < oldDecode; j++) setI32(decodePool, j, 0);
  setI32(counters, CTR_PREFILL_POOL_COUNT, prefill);
  setI32(counters, CTR_DECODE_POOL_COUNT, decode);
}

/** Whether the pools are exactly what rebuildPools would write (for validateState). */
export function poolsValid(): bool {
  const counters = base(REGION_COUNTERS);
  const role = base(REGION_ROLE);
  const n = i32At(counters, CTR_ENDPOINT_COUNT);
  const prefillPool = base(REGION_PREFILL_POOL);
  const decodePool = base(REGION_DECODE_POOL);
  const prefillCount = i32At(counters, CTR_PREFILL_POOL_COUNT);
  const decodeCount = i32At(counters, CTR_DECODE_POOL_COUNT);
  let prefill = 0;
  let decode = 0;
  for (let e = 0; e < n; e++) {
    const r = i32At(role, e);
    if ((r & ROLE_PREFILL) != 0) {
      if (prefill >= prefillCount || i32At(prefillPool, prefill) != e) return false;
      prefill++;
    }
    if ((r & ROLE_DECODE) != 0) {
      if (decode >= decodeCount || i32At(decodePool, decode) != e) return false;
      decode++;
    }
  }
  return prefill == prefillCount && decode == decodeCount;
}
