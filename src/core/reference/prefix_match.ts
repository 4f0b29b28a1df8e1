/**
 * KV locality: for each endpoint, how many leading blocks of the request's prefix it holds.
 * Fills `matched[e]` (zero elsewhere), `matchedHost[e]` (how many of those it holds only in
 * its host tier: `nodeTier` 1) and lists the touched endpoints so the decider can clear them
 * afterwards in O(touched) instead of O(endpoints).
 */
import { Ctr, mix32, Req } from "../abi.ts";
import type { CoreState } from "../state.ts";

function lookup(s: CoreState, id: number): number {
  const mask = s.prefixKeys.length - 1;
  let slot = mix32(id) & mask;
  // The table is at most half full, so an empty slot always ends the probe.
  while (s.prefixHeads[slot] !== -1) {
    if (s.prefixKeys[slot] === id) return s.prefixHeads[slot];
    slot = (slot + 1) & mask;
  }
  return -1;
}

/** Returns the number of touched endpoints (listed in `touched[0..count)`). */
export function matchPrefix(s: CoreState): number {
  const n = s.counters[Ctr.ENDPOINT_COUNT];
  const blocks = s.request[Req.BLOCK_COUNT];
  let touchedCount = 0;
  for (let k = 0; k < blocks; k++) {
    let node = lookup(s, s.requestBlocks[k]);
    let advanced = false;
    for (; node >= 0; node = s.nodeNext[node]) {
      const e = s.nodeEndpoint[node];
      if (e < 0 || e >= n || s.matched[e] !== k) continue;
      if (k === 0) s.touched[touchedCount++] = e;
      s.matched[e] = k + 1;
      if (s.nodeTier[node] !== 0) s.matchedHost[e]++;
      advanced = true;
    }
    if (!advanced) break;
  }
  return touchedCount;
}

export function clearMatches(s: CoreState, touchedCount: number): void {
  for (let i = 0; i < touchedCount; i++) {
    s.matched[s.touched[i]] = 0;
    s.matchedHost[s.touched[i]] = 0;
  }
}
