/**
 * Host-side maintenance of the prefix index: which endpoints hold which prefix blocks.
 *
 * Layout (shared with the deciders, which only read it): an open-addressing table keyed by
 * block id (`prefixKeys`, linear probing from `mix32(id) & mask`, `prefixHeads[slot] == -1`
 * means empty) whose value is the head of a linked list of (endpoint) nodes in
 * `nodeEndpoint`/`nodeNext`, and the tier the endpoint holds the block in (`nodeTier`: 0 in
 * device memory, 1 only in its host tier). Free nodes form a list from `counters[PREFIX_FREE_HEAD]`;
 * `prefixCount[e]` is how many blocks the index holds for endpoint e.
 * Deletion uses backward shifting, so the table never holds tombstones.
 */
import { Ctr, mix32 } from "./abi.ts";
import { requireEndpoint } from "./endpoints.ts";
import { PolicyInputError } from "./errors.ts";
import type { CoreState } from "./state.ts";

/** Slot holding `id`, or `-(emptySlot + 1)` where it would go. */
function findSlot(s: CoreState, id: number): number {
  const mask = s.prefixKeys.length - 1;
  let slot = mix32(id) & mask;
  while (s.prefixHeads[slot] !== -1) {
    if (s.prefixKeys[slot] === id) return slot;
    slot = (slot + 1) & mask;
  }
  return -(slot + 1);
}

function requireBlockId(context: string, id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw new PolicyInputError(
      `${context}: prefix block ids must be integers from 0 to 4294967295: current value is ${id}`,
    );
  }
}

/** Where endpoint `e` holds a block: in device (GPU) memory, or only in its host (CPU) tier. */
export const PrefixTier = { DEVICE: 0, HOST: 1 } as const;
export type PrefixTierCode = typeof PrefixTier[keyof typeof PrefixTier];

/**
 * Records that endpoint `e` holds each block in `ids`, in `tier` (a block it already holds
 * takes the new tier). Returns how many (block, endpoint) pairs could not be stored because
 * the index is full (0 when all fit); the host should evict and retry, or size
 * `prefixEntries` to the fleet's cache capacity.
 */
export function addPrefixBlocks(
  s: CoreState,
  e: number,
  ids: ArrayLike<number>,
  tier: PrefixTierCode = PrefixTier.DEVICE,
): number {
  const ctx = "Cannot index prefix blocks";
  requireEndpoint(s, ctx, e);
  if (tier !== PrefixTier.DEVICE && tier !== PrefixTier.HOST) {
    throw new PolicyInputError(
      `${ctx}: the tier must be 0 (device) or 1 (host): current value is ${tier}`,
    );
  }
  for (let i = 0; i < ids.length; i++) requireBlockId(ctx, ids[i]);
  let dropped = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    let slot = findSlot(s, id);
    const held = slot >= 0 ? findNode(s, s.prefixHeads[slot], e) : -1;
    if (held >= 0) {
      s.nodeTier[held] = tier;
      continue;
    }
    const node = s.counters[Ctr.PREFIX_FREE_HEAD];
    if (node < 0) {
      dropped++;
      continue;
    }
    s.counters[Ctr.PREFIX_FREE_HEAD] = s.nodeNext[node];
    s.counters[Ctr.PREFIX_ENTRIES]++;
    s.prefixCount[e]++;
    s.nodeEndpoint[node] = e;
    s.nodeTier[node] = tier;
    if (slot >= 0) {
      s.nodeNext[node] = s.prefixHeads[slot];
    } else {
      slot = -slot - 1;
      s.prefixKeys[slot] = id;
      s.nodeNext[node] = -1;
    }
    s.prefixHeads[slot] = node;
  }
  return dropped;
}

/** The node of endpoint `e` in the list from `node`, or -1. */
function findNode(s: CoreState, node: number, e: number): number {
  for (; node >= 0; node = s.nodeNext[node]) if (s.nodeEndpoint[node] === e) return node;
  return -1;
}

/** Forgets that endpoint `e` holds each block in `ids` (unknown pairs are ignored). */
export function removePrefixBlocks(s: CoreState, e: number, ids: ArrayLike<number>): void {
  const ctx = "Cannot evict prefix blocks";
  requireEndpoint(s, ctx, e);
  for (let i = 0; i < ids.length; i++) requireBlockId(ctx, ids[i]);
  for (let i = 0; i < ids.length; i++) removePair(s, e, ids[i]);
}

/** Forgets every block endpoint `e` holds (it restarted or left the fleet). */
export function removeEndpointBlocks(s: CoreState, e: number): void {
  requireEndpoint(s, "Cannot evict prefix blocks", e);
  const held: number[] = [];
  for (let slot = 0; slot < s.prefixHeads.length; slot++) {
    if (s.prefixHeads[slot] !== -1 && findNode(s, s.prefixHeads[slot], e) >= 0) {
      held.push(s.prefixKeys[slot]);
    }
  }
  for (const id of held) removePair(s, e, id);
}

export function prefixEntryCount(s: CoreState): number {
  return s.counters[Ctr.PREFIX_ENTRIES];
}

function removePair(s: CoreState, e: number, id: number): void {
  const slot = findSlot(s, id);
  if (slot < 0) return;
  let prev = -1;
  let node = s.prefixHeads[slot];
  while (node >= 0 && s.nodeEndpoint[node] !== e) {
    prev = node;
    node = s.nodeNext[node];
  }
  if (node < 0) return;
  const next = s.nodeNext[node];
  if (prev < 0) s.prefixHeads[slot] = next;
  else s.nodeNext[prev] = next;
  s.nodeEndpoint[node] = -1;
  s.nodeTier[node] = 0;
  s.nodeNext[node] = s.counters[Ctr.PREFIX_FREE_HEAD];
  s.counters[Ctr.PREFIX_FREE_HEAD] = node;
  s.counters[Ctr.PREFIX_ENTRIES]--;
  s.prefixCount[e]--;
  if (next < 0 && prev < 0) deleteSlot(s, slot);
}

/** Backward-shift deletion for linear probing: keeps every remaining key reachable. */
function deleteSlot(s: CoreState, slot: number): void {
  const mask = s.prefixKeys.length - 1;
  let hole = slot;
  s.prefixHeads[hole] = -1;
  s.prefixKeys[hole] = 0;
  for (let j = (hole + 1) & mask; s.prefixHeads[j] !== -1; j = (j + 1) & mask) {
    const home = mix32(s.prefixKeys[j]) & mask;
    // Entry j may fill the hole unless its home lies cyclically in (hole, j].
    const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
    if (stays) continue;
    s.prefixKeys[hole] = s.prefixKeys[j];
    s.prefixHeads[hole] = s.prefixHeads[j];
    s.prefixHeads[j] = -1;
    s.prefixKeys[j] = 0;
    hole = j;
  }
}
