// Memory layout of the WASM core: one region per ABI region (src/core/abi.ts REGIONS, same
// ids, same order), cache-line aligned and staggered (see `staggered`), allocated once by
// `init` so host views never move.
// Region base addresses live in globals so hot loops pay no indirection.

import { CAP_COUNT, CFG_COUNT, CTR_COUNT, MOVE_STRIDE, REQ_COUNT, RES_COUNT } from "./abi";

export const REGION_COUNTERS: i32 = 0;
export const REGION_CAPACITY: i32 = 1;
export const REGION_CONFIG: i32 = 2;
export const REGION_REQUEST: i32 = 3;
export const REGION_REQUEST_BLOCKS: i32 = 4;
export const REGION_RESULT: i32 = 5;
export const REGION_MOVES: i32 = 6;
export const REGION_ROLE: i32 = 7;
export const REGION_HEALTHY: i32 = 8;
export const REGION_HOST: i32 = 9;
export const REGION_NUMA: i32 = 10;
export const REGION_DOMAIN: i32 = 11;
export const REGION_PREFILL_MS_PER_TOKEN: i32 = 12;
export const REGION_DECODE_BASE_MS: i32 = 13;
export const REGION_DECODE_MS_PER_BLOCK: i32 = 14;
export const REGION_KV_CAPACITY: i32 = 15;
export const REGION_SLAB_MS_PER_BLOCK: i32 = 16;
export const REGION_COST_PER_HOUR: i32 = 17;
export const REGION_QUEUED_PREFILL: i32 = 18;
export const REGION_ACTIVE_SEQS: i32 = 19;
export const REGION_ACTIVE_KV: i32 = 20;
export const REGION_HOST_KV_FREE: i32 = 21;
export const REGION_TTFT_OBS: i32 = 22;
export const REGION_TTFT_OBS_AT: i32 = 23;
export const REGION_TPOT_OBS: i32 = 24;
export const REGION_TPOT_OBS_AT: i32 = 25;
export const REGION_SEQ_ENDPOINT: i32 = 26;
export const REGION_SEQ_KV: i32 = 27;
export const REGION_SEQ_REMAINING: i32 = 28;
export const REGION_PREFIX_KEYS: i32 = 29;
export const REGION_PREFIX_HEADS: i32 = 30;
export const REGION_NODE_ENDPOINT: i32 = 31;
export const REGION_NODE_NEXT: i32 = 32;
export const REGION_MIGRATION_TIMES: i32 = 33;
export const REGION_MATCHED: i32 = 34;
export const REGION_TOUCHED: i32 = 35;
export const REGION_PREFILL_TIME: i32 = 36;
export const REGION_COST: i32 = 37;
export const REGION_CANDIDATES: i32 = 38;
export const REGION_GROUP_MIN: i32 = 39;
export const REGION_GROUP_TOUCHED: i32 = 40;
export const REGION_PREFILL_POOL: i32 = 41;
export const REGION_DECODE_POOL: i32 = 42;
export const REGION_PREFILL_SAMPLE: i32 = 43;
export const REGION_DECODE_SAMPLE: i32 = 44;
export const REGION_MAX_SEQS: i32 = 45;
export const REGION_PREFILL_SEQS: i32 = 46;
export const REGION_WAITING_OBS: i32 = 47;
export const REGION_RUNNING_OBS: i32 = 48;
export const REGION_KV_USAGE_OBS: i32 = 49;
export const REGION_METRICS_AT: i32 = 50;
export const REGION_PREFIX_COUNT: i32 = 51;
export const REGION_MAX_BATCHED_TOKENS: i32 = 52;
export const REGION_PENDING_KV: i32 = 53;
export const REGION_NODE_TIER: i32 = 54;
export const REGION_MATCHED_HOST: i32 = 55;
export const REGION_DECODE_MS_PER_SEQ: i32 = 56;
export const REGION_PENDING_SEQS: i32 = 57;
export const REGION_EXTERNAL_SEQS: i32 = 58;
export const REGION_COUNT: i32 = 59;

// Capacities, set once by `init`.
export let capEndpoints: i32 = 0;
export let capSequences: i32 = 0;
export let capPrefixEntries: i32 = 0;
export let capPrefixTable: i32 = 0;
export let capRequestBlocks: i32 = 0;
export let capHosts: i32 = 0;
export let capNumaPerHost: i32 = 0;
export let capDomains: i32 = 0;
export let capMoves: i32 = 0;
export let capMigrationBudget: i32 = 0;
export let initialized: bool = false;

/** Static table of region base addresses, filled by `init`. */
const BASES: usize = memory.data(REGION_COUNT * 4, 16);

/** Base address of region `id`. With a constant id this is one load from a constant address. */
// @ts-ignore: decorator
@inline export function base(id: i32): usize {
  return load<u32>(BASES + (<usize>id << 2));
}

function elementSize(id: i32): usize {
  switch (id) {
    case REGION_COUNTERS:
    case REGION_CAPACITY:
    case REGION_REQUEST_BLOCKS:
    case REGION_ROLE:
    case REGION_HEALTHY:
    case REGION_HOST:
    case REGION_NUMA:
    case REGION_DOMAIN:
    case REGION_SEQ_ENDPOINT:
    case REGION_PREFIX_KEYS:
    case REGION_PREFIX_HEADS:
    case REGION_NODE_ENDPOINT:
    case REGION_NODE_NEXT:
    case REGION_MATCHED:
    case REGION_TOUCHED:
    case REGION_CANDIDATES:
    case REGION_GROUP_TOUCHED:
    case REGION_PREFILL_POOL:
    case REGION_DECODE_POOL:
    case REGION_PREFILL_SAMPLE:
    case REGION_DECODE_SAMPLE:
    case REGION_PREFIX_COUNT:
    case REGION_NODE_TIER:
    case REGION_MATCHED_HOST:
      return 4;
    default:
      return 8;
  }
}

/** Elements in region `id` for the current capacities. */
export function regionLength(id: i32): i32 {
  switch (id) {
    case REGION_COUNTERS:
      return CTR_COUNT;
    case REGION_CAPACITY:
      return CAP_COUNT;
    case REGION_CONFIG:
      return CFG_COUNT;
    case REGION_REQUEST:
      return REQ_COUNT;
    case REGION_REQUEST_BLOCKS:
      return capRequestBlocks;
    case REGION_RESULT:
      return RES_COUNT;
    case REGION_MOVES:
      return capMoves * MOVE_STRIDE;
    case REGION_ROLE:
      return capEndpoints;
    case REGION_HEALTHY:
      return capEndpoints;
    case REGION_HOST:
      return capEndpoints;
    case REGION_NUMA:
      return capEndpoints;
    case REGION_DOMAIN:
      return capEndpoints;
    case REGION_PREFILL_MS_PER_TOKEN:
      return capEndpoints;
    case REGION_DECODE_BASE_MS:
      return capEndpoints;
    case REGION_DECODE_MS_PER_BLOCK:
      return capEndpoints;
    case REGION_KV_CAPACITY:
      return capEndpoints;
    case REGION_SLAB_MS_PER_BLOCK:
      return capEndpoints;
    case REGION_COST_PER_HOUR:
      return capEndpoints;
    case REGION_QUEUED_PREFILL:
      return capEndpoints;
    case REGION_ACTIVE_SEQS:
      return capEndpoints;
    case REGION_ACTIVE_KV:
      return capEndpoints;
    case REGION_HOST_KV_FREE:
      return capEndpoints;
    case REGION_TTFT_OBS:
      return capEndpoints;
    case REGION_TTFT_OBS_AT:
      return capEndpoints;
    case REGION_TPOT_OBS:
      return capEndpoints;
    case REGION_TPOT_OBS_AT:
      return capEndpoints;
    case REGION_SEQ_ENDPOINT:
      return capSequences;
    case REGION_SEQ_KV:
      return capSequences;
    case REGION_SEQ_REMAINING:
      return capSequences;
    case REGION_PREFIX_KEYS:
      return capPrefixTable;
    case REGION_PREFIX_HEADS:
      return capPrefixTable;
    case REGION_NODE_ENDPOINT:
      return capPrefixEntries;
    case REGION_NODE_NEXT:
      return capPrefixEntries;
    case REGION_MIGRATION_TIMES:
      return capMigrationBudget;
    case REGION_MATCHED:
      return capEndpoints;
    case REGION_TOUCHED:
      return capEndpoints;
    case REGION_PREFILL_TIME:
      return capEndpoints;
    case REGION_COST:
      return capEndpoints;
    case REGION_CANDIDATES:
      return capEndpoints;
    case REGION_GROUP_MIN:
      return groupSlots();
    case REGION_GROUP_TOUCHED:
      return groupSlots();
    case REGION_PREFILL_POOL:
      return capEndpoints;
    case REGION_DECODE_POOL:
      return capEndpoints;
    case REGION_PREFILL_SAMPLE:
      return capEndpoints;
    case REGION_DECODE_SAMPLE:
      return capEndpoints;
    case REGION_MAX_SEQS:
    case REGION_PREFILL_SEQS:
    case REGION_WAITING_OBS:
    case REGION_RUNNING_OBS:
    case REGION_KV_USAGE_OBS:
    case REGION_METRICS_AT:
    case REGION_PREFIX_COUNT:
    case REGION_MAX_BATCHED_TOKENS:
    case REGION_PENDING_KV:
    case REGION_MATCHED_HOST:
    case REGION_DECODE_MS_PER_SEQ:
    case REGION_PENDING_SEQS:
    case REGION_EXTERNAL_SEQS:
      return capEndpoints;
    case REGION_NODE_TIER:
      return capPrefixEntries;
    default:
      return -1;
  }
}

/** One group slot per NVLink domain, per (host, NUMA node) and per host. */
function groupSlots(): i32 {
  return capDomains + capHosts * capNumaPerHost + capHosts;
}

/** Power of two >= 2 * entries (load factor <= 1/2), at least 16. */
function prefixTableSize(entries: i32): i32 {
  let size = 16;
  while (size < entries * 2) size <<= 1;
  return size;
}


/**
 * The first address at or after `at` that lies `id` cache lines past a 4 KiB boundary.
 * Endpoint columns are often whole multiples of 4 KiB long (1024 f64s is 8 KiB), so packed
 * back to back they would all start in the same L1 set: a loop reading twenty of them would
 * evict its own lines (8-way L1) and its stores would 4K-alias its loads. Staggering every
 * region by one line costs under 4 KiB each and spreads the columns over distinct sets.
 */
function staggered(at: usize, id: i32): usize {
  const want = (<usize>id << 6) & 4095;
  const page = at & ~(<usize>4095);
  return page + want >= at ? page + want : page + 4096 + want;
}

/**
 * Lays out every region after the heap base and grows memory to fit. Returns false when the
 * capacities are out of range or memory cannot grow. Runs once per instance.
 */
export function allocate(
  endpoints: i32,
  sequences: i32,
  prefixEntries: i32,
  requestBlocks: i32,
  hosts: i32,
  numaPerHost: i32,
  domains: i32,
  moves: i32,
  migrationBudget: i32,
): bool {
  if (
    endpoints < 1 || endpoints > 16384 || sequences < 1 || sequences > (1 << 21) ||
    prefixEntries < 1 || prefixEntries > (1 << 23) || requestBlocks < 1 ||
    requestBlocks > (1 << 16) || hosts < 1 || hosts > 4096 || numaPerHost < 1 ||
    numaPerHost > 64 || domains < 1 || domains > 16384 || moves < 1 || moves > 1024 ||
    migrationBudget < 1 || migrationBudget > (1 << 16)
  ) return false;
  capEndpoints = endpoints;
  capSequences = sequences;
  capPrefixEntries = prefixEntries;
  capPrefixTable = prefixTableSize(prefixEntries);
  capRequestBlocks = requestBlocks;
  capHosts = hosts;
  capNumaPerHost = numaPerHost;
  capDomains = domains;
  capMoves = moves;
  capMigrationBudget = migrationBudget;
  let at: usize = __heap_base;
  for (let id = 0; id < REGION_COUNT; id++) {
    at = staggered(at, id);
    store<u32>(BASES + (<usize>id << 2), <u32>at);
    at += <usize>regionLength(id) * elementSize(id);
  }
  const pagesNeeded = <i32>((at + 0xffff) >>> 16);
  const pagesNow = memory.size();
  if (pagesNeeded > pagesNow && memory.grow(pagesNeeded - pagesNow) < 0) return false;
  return true;
}
