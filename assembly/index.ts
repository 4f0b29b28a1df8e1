// pdroute scoring core: the WASM module's exports. The ABI (exports, memory layout, status
// codes) is documented in docs/ABI.md; the policy it implements in docs/POLICY.md.
//
// Host protocol: call `init` once with the capacities, build views over `memory` at
// `regionOffset(id)` / `regionLength(id)`, write the config, endpoint state and request
// regions in place (then `rebuildPools` if roles changed), then call `route` /
// `planMigrations` and read the result regions.

import {
  ABI_VERSION,
  CAP_DOMAINS,
  CAP_ENDPOINTS,
  CAP_HOSTS,
  CAP_MIGRATION_BUDGET,
  CAP_MOVES,
  CAP_NUMA_PER_HOST,
  CAP_PREFIX_ENTRIES,
  CAP_PREFIX_TABLE,
  CAP_REQUEST_BLOCKS,
  CAP_SEQUENCES,
  CFG_CANDIDATE_SAMPLE,
  CFG_PREFILL_QUEUE_LIMIT_TOKENS,
  CFG_COUNT,
  CFG_POLICY,
  CTR_DECODE_POOL_COUNT,
  CTR_ENDPOINT_COUNT,
  CTR_PREFILL_POOL_COUNT,
  CTR_PREFIX_FREE_HEAD,
  CTR_SEQ_HIGH_WATER,
  POLICYKIND_ROUND_ROBIN,
  REQ_BLOCK_COUNT,
  STATUS_ALREADY_INITIALIZED,
  STATUS_BAD_CAPACITY,
  STATUS_BAD_STATE,
  STATUS_NOT_INITIALIZED,
  STATUS_OK,
} from "./abi";
import {
  allocate,
  base,
  capDomains,
  capEndpoints,
  capHosts,
  capMigrationBudget,
  capMoves,
  capNumaPerHost,
  capPrefixEntries,
  capPrefixTable,
  capRequestBlocks,
  capSequences,
  REGION_CAPACITY,
  REGION_CONFIG,
  REGION_COUNT,
  REGION_COUNTERS,
  REGION_DOMAIN,
  REGION_GROUP_MIN,
  REGION_HOST,
  REGION_NODE_ENDPOINT,
  REGION_NODE_NEXT,
  REGION_NUMA,
  REGION_PREFIX_HEADS,
  REGION_REQUEST,
  REGION_SEQ_ENDPOINT,
  regionLength,
} from "./layout";
import { f64At, i32At, setF64, setI32 } from "./mem";
import { planMigrations as plan } from "./migrate";
import { poolsValid, rebuildPools as rebuild } from "./pools";
import { routePredictive } from "./route_predictive";
import { routeRoundRobin } from "./route_round_robin";

export { regionLength };

let ready: bool = false;

export function abiVersion(): i32 {
  return ABI_VERSION;
}

/** Allocates every region for these capacities and writes the initial state. Once only. */
export function init(
  endpoints: i32,
  sequences: i32,
  prefixEntries: i32,
  requestBlocks: i32,
  hosts: i32,
  numaPerHost: i32,
  domains: i32,
  moves: i32,
  migrationBudget: i32,
): i32 {
  if (ready) return STATUS_ALREADY_INITIALIZED;
  if (
    !allocate(
      endpoints,
      sequences,
      prefixEntries,
      requestBlocks,
      hosts,
      numaPerHost,
      domains,
      moves,
      migrationBudget,
    )
  ) return STATUS_BAD_CAPACITY;
  const cap = base(REGION_CAPACITY);
  setI32(cap, CAP_ENDPOINTS, capEndpoints);
  setI32(cap, CAP_SEQUENCES, capSequences);
  setI32(cap, CAP_PREFIX_ENTRIES, capPrefixEntries);
  setI32(cap, CAP_PREFIX_TABLE, capPrefixTable);
  setI32(cap, CAP_REQUEST_BLOCKS, capRequestBlocks);
  setI32(cap, CAP_HOSTS, capHosts);
  setI32(cap, CAP_NUMA_PER_HOST, capNumaPerHost);
  setI32(cap, CAP_DOMAINS, capDomains);
  setI32(cap, CAP_MOVES, capMoves);
  setI32(cap, CAP_MIGRATION_BUDGET, capMigrationBudget);
  const heads = base(REGION_PREFIX_HEADS);
  for (let i = 0; i < capPrefixTable; i++) setI32(heads, i, -1);
  const seqEndpoint = base(REGION_SEQ_ENDPOINT);
  for (let i = 0; i < capSequences; i++) setI32(seqEndpoint, i, -1);
  const nodeNext = base(REGION_NODE_NEXT);
  const nodeEndpoint = base(REGION_NODE_ENDPOINT);
  for (let i = 0; i < capPrefixEntries; i++) {
    setI32(nodeNext, i, i + 1 < capPrefixEntries ? i + 1 : -1);
    setI32(nodeEndpoint, i, -1);
  }
  setI32(base(REGION_COUNTERS), CTR_PREFIX_FREE_HEAD, 0);
  // Between decisions every group minimum is +Infinity (route_predictive clears what it sets).
  const groupMin = base(REGION_GROUP_MIN);
  const groups = regionLength(REGION_GROUP_MIN);
  for (let i = 0; i < groups; i++) setF64(groupMin, i, Infinity);
  ready = true;
  return STATUS_OK;
}

/** Byte offset of region `id` in `memory` (0 before `init` or for an unknown id). */
export function regionOffset(id: i32): usize {
  if (!ready || id < 0 || id >= REGION_COUNT) return 0;
  return base(id);
}

/** Cheap checks that keep every index the deciders compute inside its region. */
function entryState(): i32 {
  if (!ready) return STATUS_NOT_INITIALIZED;
  const counters = base(REGION_COUNTERS);
  const n = i32At(counters, CTR_ENDPOINT_COUNT);
  if (n < 0 || n > capEndpoints) return STATUS_BAD_STATE;
  const seqHigh = i32At(counters, CTR_SEQ_HIGH_WATER);
  if (seqHigh < 0 || seqHigh > capSequences) return STATUS_BAD_STATE;
  const prefillPool = i32At(counters, CTR_PREFILL_POOL_COUNT);
  const decodePool = i32At(counters, CTR_DECODE_POOL_COUNT);
  if (prefillPool < 0 || prefillPool > n || decodePool < 0 || decodePool > n) {
    return STATUS_BAD_STATE;
  }
  const blocks = f64At(base(REGION_REQUEST), REQ_BLOCK_COUNT);
  if (!(blocks >= 0 && blocks <= <f64>capRequestBlocks)) return STATUS_BAD_STATE;
  return STATUS_OK;
}

/**
 * Routes the request in the request region. `now` is the caller's clock in ms; `draw` a
 * uniform random u32 from the host (the core has no randomness of its own).
 */
export function route(now: f64, draw: u32): i32 {
  const status = entryState();
  if (status != STATUS_OK) return status;
  return <i32>f64At(base(REGION_CONFIG), CFG_POLICY) == POLICYKIND_ROUND_ROBIN
    ? routeRoundRobin(now)
    : routePredictive(now, draw);
}

/**
 * Rebuilds the role pools from the role column. Embedders that write roles directly call it
 * after changing any (the Deno wrapper maintains them as it writes).
 */
export function rebuildPools(): i32 {
  if (!ready) return STATUS_NOT_INITIALIZED;
  const n = i32At(base(REGION_COUNTERS), CTR_ENDPOINT_COUNT);
  if (n < 0 || n > capEndpoints) return STATUS_BAD_STATE;
  rebuild();
  return STATUS_OK;
}

/** Plans migrations into the moves region; returns their count, or -status on bad state. */
export function planMigrations(now: f64, draw: u32): i32 {
  const status = entryState();
  if (status != STATUS_OK) return -status;
  return plan(now, draw);
}

/**
 * Full validation of host-written state, for embedders writing memory directly (the Deno
 * wrapper validates every write instead). O(endpoints + prefix entries).
 */
export function validateState(): i32 {
  const status = entryState();
  if (status != STATUS_OK) return status;
  const n = i32At(base(REGION_COUNTERS), CTR_ENDPOINT_COUNT);
  const host = base(REGION_HOST);
  const numa = base(REGION_NUMA);
  const domain = base(REGION_DOMAIN);
  for (let e = 0; e < n; e++) {
    const h = i32At(host, e);
    const u = i32At(numa, e);
    const d = i32At(domain, e);
    if (h < 0 || h >= capHosts || u < 0 || u >= capNumaPerHost || d < -1 || d >= capDomains) {
      return STATUS_BAD_STATE;
    }
  }
  if (!poolsValid()) return STATUS_BAD_STATE;
  const cfg = base(REGION_CONFIG);
  for (let i = 0; i < CFG_COUNT; i++) {
    const v = f64At(cfg, i);
    // Every slot is finite but the optional prefill queue limit (+Infinity: none).
    if (!(v >= 0 && (v < Infinity || i == CFG_PREFILL_QUEUE_LIMIT_TOKENS))) return STATUS_BAD_STATE;
  }
  const sample = f64At(cfg, CFG_CANDIDATE_SAMPLE);
  if (sample != Math.floor(sample)) return STATUS_BAD_STATE;
  return STATUS_OK;
}
