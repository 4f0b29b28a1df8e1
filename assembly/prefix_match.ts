// KV locality: twin of src/core/reference/prefix_match.ts. Fills matched[e] with the number of
// leading request blocks endpoint e holds and lists touched endpoints for O(touched) clearing.
// Probes and list walks are bounded by the capacities, so corrupt host data cannot hang it.

import { CTR_ENDPOINT_COUNT, REQ_BLOCK_COUNT } from "./abi";
import {
  base,
  capPrefixEntries,
  capPrefixTable,
  REGION_COUNTERS,
  REGION_MATCHED,
  REGION_NODE_ENDPOINT,
  REGION_NODE_NEXT,
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

export function matchPrefix(): i32 {
  const n = i32At(base(REGION_COUNTERS), CTR_ENDPOINT_COUNT);
  const blocks = <i32>f64At(base(REGION_REQUEST), REQ_BLOCK_COUNT);
  const matched = base(REGION_MATCHED);
  const touched = base(REGION_TOUCHED);
  const nodeEndpoint = base(REGION_NODE_ENDPOINT);
  const nodeNext = base(REGION_NODE_NEXT);
  const requestBlocks = base(REGION_REQUEST_BLOCKS);
  let touchedCount = 0;
  for (let k = 0; k < blocks; k++) {
    let node = lookup(u32At(requestBlocks, k));
    let advanced = false;
    for (let steps = 0; node >= 0 && node < capPrefixEntries && steps < capPrefixEntries; steps++) {
      const e = i32At(nodeEndpoint, node);
      if (e >= 0 && e < n && i32At(matched, e) == k) {
        if (k == 0) setI32(touched, touchedCount++, e);
        setI32(matched, e, k + 1);
        advanced = true;
      }
      node = i32At(nodeNext, node);
    }
    if (!advanced) break;
  }
  return touchedCount;
}

export function clearMatches(touchedCount: i32): void {
  const matched = base(REGION_MATCHED);
  const touched = base(REGION_TOUCHED);
  for (let i = 0; i < touchedCount; i++) setI32(matched, i32At(touched, i), 0);
}
