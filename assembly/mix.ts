// murmur3 fmix32, the spec's only hash (prefix-table slots, derived draws). Twin of mix32 in
// src/core/abi.ts.

export function mix32(x: u32): u32 {
  let h = x;
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h;
}
