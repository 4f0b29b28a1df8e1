// KV locality: twin of src/core/reference/prefix_match.ts. Fills matched[e] with the number of
// leading request blocks endpoint e holds, matchedHost[e] with how many of them it holds only
// in its host tier, and lists touched endpoints for O(touched) clearing.
// Probes and list walks are bounded by the capacities, so corrupt host data cannot hang it.

import { CTR_ENDPOINT_COUNT, REQ_BLOCK_COUNT } from "./abi";
import {
  base,
  capPrefixEntries,
  capPrefixTable,
  REGION_COUNTERS,
  REGION_MATCHED,
  REGION_MATCHED_HOST,
  REGION_NODE_ENDPOINT,
  REGION_NODE_NEXT,
  REGION_NODE_TIER,
  REGION_PREFIX_HEADS,
  REGION_PREFIX_KEYS,
  REGION_REQUEST,
  REGION_REQUEST_BLOCKS,
  REGION_TOUCHED,
} from "./layout";
import { f64At, i32At, setI32, u32At } from "./mem";
import { mix32 } from "./mix";

function lookup(id: u32): i32 {
  const keys = base(REGION_PREFIX_KEYS);
  const heads = base(REGION_PREFIX_HEADS);
  const mask = capPrefixTable - 1;
  let slot = <i32>(mix32(id) & <u32>mask);
  for (let probes = 0; probes < capPrefixTable; probes++) {
    const head = i32At(heads, slot);
    if (head == -1) return -1;
    if (u32At(keys, slot) == id) return head;
    slot = (slot + 1) & mask;
  }
  return -1;
}

/** Block 0: every endpoint on the list starts its run; returns the touched count. */
function matchFirst(node: i32, n: i32): i32 {
  const matched = base(REGION_MATCHED);
  const matchedHost = base(REGION_MATCHED_HOST);
  const touched = base(REGION_TOUCHED);
  const nodeEndpoint = base(REGION_NODE_ENDPOINT);
  const nodeNext = base(REGION_NODE_NEXT);
  const nodeTier = base(REGION_NODE_TIER);
  const cap = <u32>capPrefixEntries;
  let count = 0;
  // Unsigned compares: a negative node or endpoint is out of range too.
  for (let steps = capPrefixEntries; <u32>node < cap && steps > 0; steps--) {
    const e = i32At(nodeEndpoint, node);
    if (<u32>e < <u32>n && i32At(matched, e) == 0) {
      setI32(touched, count++, e);
      setI32(matched, e, 1);
      if (i32At(nodeTier, node) != 0) setI32(matchedHost, e, 1);
    }
    node = i32At(nodeNext, node);
  }
  return count;
}

/** Block k >= 1: endpoints holding blocks 0..k-1 advance; returns whether any did. */
function matchNext(node: i32, k: i32, n: i32): bool {
  const matched = base(REGION_MATCHED);
  const matchedHost = base(REGION_MATCHED_HOST);
  const nodeEndpoint = base(REGION_NODE_ENDPOINT);
  const nodeNext = base(REGION_NODE_NEXT);
  const nodeTier = base(REGION_NODE_TIER);
  const cap = <u32>capPrefixEntries;
  let advanced = 0;
  for (let steps = capPrefixEntries; <u32>node < cap && steps > 0; steps--) {
    const e = i32At(nodeEndpoint, node);
    if (<u32>e < <u32>n && i32At(matched, e) == k) {
      setI32(matched, e, k + 1);
      if (i32At(nodeTier, node) != 0) setI32(matchedHost, e, i32At(matchedHost, e) + 1);
      advanced = 1;
    }
    node = i32At(nodeNext, node);
  }
  return advanced != 0;
}

export function matchPrefix(): i32 {
  const n = i32At(base(REGION_COUNTERS), CTR_ENDPOINT_COUNT);
  const blocks = <i32>f64At(base(REGION_REQUEST), REQ_BLOCK_COUNT);
  const requestBlocks = base(REGION_REQUEST_BLOCKS);
  if (blocks <= 0) return 0;
  const touchedCount = matchFirst(lookup(u32At(requestBlocks, 0)), n);
  if (touchedCount == 0) return 0;
  for (let k = 1; k < blocks; k++) {
    if (!matchNext(lookup(u32At(requestBlocks, k)), k, n)) break;
  }
  return touchedCount;
}

export function clearMatches(touchedCount: i32): void {
  const matched = base(REGION_MATCHED);
  const matchedHost = base(REGION_MATCHED_HOST);
  const touched = base(REGION_TOUCHED);
  for (let i = 0; i < touchedCount; i++) {
    const e = i32At(touched, i);
    setI32(matched, e, 0);
    setI32(matchedHost, e, 0);
  }
}
