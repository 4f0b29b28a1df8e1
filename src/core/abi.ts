/**
 * The scoring core's ABI: every number both implementations (the TS reference in
 * `src/core/reference/` and the AssemblyScript core in `assembly/`) must agree on.
 *
 * `assembly/abi.ts` repeats these constants for the WASM side; `tests/core/abi_test.ts`
 * fails if the two files ever disagree. See `docs/ABI.md` for the memory layout.
 */

/** Bumped whenever a region, slot or status changes meaning. Checked at load. */
export const ABI_VERSION = 9;

/** Status codes returned by `route`, `planMigrations` (when negative) and `init`. */
export const Status = {
  OK: 0,
  NO_DECODE_CAPACITY: 1,
  NO_PREFILL_CAPACITY: 2,
  BAD_STATE: 3,
  ALREADY_INITIALIZED: 4,
  BAD_CAPACITY: 5,
  NOT_INITIALIZED: 6,
} as const;
export type StatusCode = typeof Status[keyof typeof Status];

/** Endpoint roles are bit sets: a `both` endpoint can prefill for others and decode. */
export const Role = { NONE: 0, PREFILL: 1, DECODE: 2, BOTH: 3 } as const;
export type RoleCode = typeof Role[keyof typeof Role];

/** PEER: a TS-only peer policy decides (src/core/policies.ts); the built-in deciders never run. */
export const PolicyKind = { ROUND_ROBIN: 0, PREDICTIVE: 1, PEER: 2 } as const;
export const Disaggregation = { NEVER: 0, ALWAYS: 1, CONDITIONAL: 2 } as const;

/** Link classes between a prefill and a decode endpoint, cheapest first. */
export const LinkClass = { SAME: 0, NVLINK: 1, PCIE: 2, CROSS_NUMA: 3, NETWORK: 4 } as const;

/** Slots of the f64 config region (written by the host from a validated `PolicyConfig`). */
export const Cfg = {
  POLICY: 0,
  DISAGGREGATION: 1,
  KV_BLOCK_TOKENS: 2,
  PREFIX_BLOCK_TOKENS: 3,
  LOCAL_PREFILL_MAX_TOKENS: 4,
  PREFILL_QUEUE_LIMIT_TOKENS: 5,
  DECODE_KV_USAGE_LIMIT: 6,
  ALLOW_SPILLOVER: 7,
  TTFT_OBSERVED_WEIGHT: 8,
  TPOT_OBSERVED_WEIGHT: 9,
  TELEMETRY_MAX_AGE_MS: 10,
  TIE_WINDOW_MS: 11,
  TIE_WINDOW_RELATIVE: 12,
  COST_MS_PER_DOLLAR_HOUR: 13,
  XFER_MS_PER_TOKEN_NVLINK: 14,
  XFER_MS_PER_TOKEN_PCIE: 15,
  XFER_MS_PER_TOKEN_CROSS_NUMA: 16,
  XFER_MS_PER_TOKEN_NETWORK: 17,
  XFER_LATENCY_MS_NVLINK: 18,
  XFER_LATENCY_MS_PCIE: 19,
  XFER_LATENCY_MS_CROSS_NUMA: 20,
  XFER_LATENCY_MS_NETWORK: 21,
  MIGRATION_BUDGET: 22,
  MIGRATION_WINDOW_MS: 23,
  MIGRATION_GAP_MS: 24,
  MIGRATION_OVERHEAD_MS: 25,
  MIGRATION_MAX_MOVES: 26,
  CANDIDATE_SAMPLE: 27,
  INTERFERENCE_WEIGHT: 28,
  SLO_TTFT_MS: 29,
  SLO_TPOT_MS: 30,
  SLO_MISS_WEIGHT: 31,
  SLO_BAND: 32,
  /** ABI 7: credit of a prefix block held only in an engine's host (CPU) tier, 0..1. */
  HOST_TIER_CREDIT: 33,
  COUNT: 34,
} as const;

/** Slots of the f64 request region. Block ids go in the separate u32 region. */
export const Req = { PROMPT_TOKENS: 0, OUTPUT_TOKENS: 1, BLOCK_COUNT: 2, COUNT: 4 } as const;

/** Slots of the f64 result region, written by `route`. */
export const Res = {
  STATUS: 0,
  PREFILL: 1,
  DECODE: 2,
  DISAGGREGATED: 3,
  TTFT_MS: 4,
  TPOT_MS: 5,
  UNCACHED_TOKENS: 6,
  TRANSFER_MS: 7,
  REQUEST_KV_BLOCKS: 8,
  COST_MS: 9,
  /** The same TTFT and TPOT before observed factors: what hosts measure ratios against. */
  TTFT_MODEL_MS: 10,
  TPOT_MODEL_MS: 11,
  COUNT: 12,
} as const;

/** Fields of one planned migration in the f64 moves region (`MOVE_STRIDE` slots each). */
export const Move = {
  SEQUENCE: 0,
  FROM: 1,
  TO: 2,
  BENEFIT_MS: 3,
  COST_MS: 4,
  KV_BLOCKS: 5,
  STRIDE: 6,
} as const;

/** Slots of the i32 counters region. */
export const Ctr = {
  ENDPOINT_COUNT: 0,
  SEQ_HIGH_WATER: 1,
  PREFIX_FREE_HEAD: 2,
  PREFIX_ENTRIES: 3,
  RR_PREFILL: 4,
  RR_DECODE: 5,
  MIGRATION_RING_HEAD: 6,
  MIGRATION_RING_COUNT: 7,
  PREFILL_POOL_COUNT: 8,
  DECODE_POOL_COUNT: 9,
  COUNT: 10,
} as const;

/** Slots of the i32 capacity region (echo of `init`'s arguments plus derived sizes). */
export const Cap = {
  ENDPOINTS: 0,
  SEQUENCES: 1,
  PREFIX_ENTRIES: 2,
  PREFIX_TABLE: 3,
  REQUEST_BLOCKS: 4,
  HOSTS: 5,
  NUMA_PER_HOST: 6,
  DOMAINS: 7,
  MOVES: 8,
  MIGRATION_BUDGET: 9,
  COUNT: 10,
} as const;

export type ElementType = "i32" | "u32" | "f64";

/** Capacities fixed at `init`; every region's length derives from them. */
export interface CoreCapacity {
  readonly endpoints: number;
  readonly sequences: number;
  readonly prefixEntries: number;
  readonly requestBlocks: number;
  readonly hosts: number;
  readonly numaPerHost: number;
  readonly domains: number;
  readonly moves: number;
  readonly migrationBudget: number;
}

/** Open-addressing table size for the prefix index: a power of two, load factor <= 1/2. */
export function prefixTableSize(prefixEntries: number): number {
  let size = 16;
  while (size < prefixEntries * 2) size *= 2;
  return size;
}

/** Group-minimum scratch: one slot per NVLink domain, per (host, NUMA node) and per host. */
export function groupSlots(c: CoreCapacity): number {
  return c.domains + c.hosts * c.numaPerHost + c.hosts;
}

/**
 * Regions in id order. The WASM core lays them out in this order, 16-byte aligned, and
 * exports `regionOffset(id)` / `regionLength(id)`; the TS reference allocates one typed array
 * per region.
 */
export const REGIONS = [
  { name: "counters", type: "i32", length: () => Ctr.COUNT },
  { name: "capacity", type: "i32", length: () => Cap.COUNT },
  { name: "config", type: "f64", length: () => Cfg.COUNT },
  { name: "request", type: "f64", length: () => Req.COUNT },
  { name: "requestBlocks", type: "u32", length: (c) => c.requestBlocks },
  { name: "result", type: "f64", length: () => Res.COUNT },
  { name: "moves", type: "f64", length: (c) => c.moves * Move.STRIDE },
  { name: "role", type: "i32", length: (c) => c.endpoints },
  { name: "healthy", type: "i32", length: (c) => c.endpoints },
  { name: "host", type: "i32", length: (c) => c.endpoints },
  { name: "numa", type: "i32", length: (c) => c.endpoints },
  { name: "domain", type: "i32", length: (c) => c.endpoints },
  { name: "prefillMsPerToken", type: "f64", length: (c) => c.endpoints },
  { name: "decodeBaseMs", type: "f64", length: (c) => c.endpoints },
  { name: "decodeMsPerBlock", type: "f64", length: (c) => c.endpoints },
  { name: "kvCapacity", type: "f64", length: (c) => c.endpoints },
  { name: "slabMsPerBlock", type: "f64", length: (c) => c.endpoints },
  { name: "costPerHour", type: "f64", length: (c) => c.endpoints },
  { name: "queuedPrefill", type: "f64", length: (c) => c.endpoints },
  { name: "activeSeqs", type: "f64", length: (c) => c.endpoints },
  { name: "activeKv", type: "f64", length: (c) => c.endpoints },
  { name: "hostKvFree", type: "f64", length: (c) => c.endpoints },
  { name: "ttftObs", type: "f64", length: (c) => c.endpoints },
  { name: "ttftObsAt", type: "f64", length: (c) => c.endpoints },
  { name: "tpotObs", type: "f64", length: (c) => c.endpoints },
  { name: "tpotObsAt", type: "f64", length: (c) => c.endpoints },
  { name: "seqEndpoint", type: "i32", length: (c) => c.sequences },
  { name: "seqKv", type: "f64", length: (c) => c.sequences },
  { name: "seqRemaining", type: "f64", length: (c) => c.sequences },
  { name: "prefixKeys", type: "u32", length: (c) => prefixTableSize(c.prefixEntries) },
  { name: "prefixHeads", type: "i32", length: (c) => prefixTableSize(c.prefixEntries) },
  { name: "nodeEndpoint", type: "i32", length: (c) => c.prefixEntries },
  { name: "nodeNext", type: "i32", length: (c) => c.prefixEntries },
  { name: "migrationTimes", type: "f64", length: (c) => c.migrationBudget },
  { name: "matched", type: "i32", length: (c) => c.endpoints },
  { name: "touched", type: "i32", length: (c) => c.endpoints },
  { name: "prefillTime", type: "f64", length: (c) => c.endpoints },
  { name: "cost", type: "f64", length: (c) => c.endpoints },
  { name: "candidates", type: "i32", length: (c) => c.endpoints },
  { name: "groupMin", type: "f64", length: (c) => groupSlots(c) },
  { name: "groupTouched", type: "i32", length: (c) => groupSlots(c) },
  { name: "prefillPool", type: "i32", length: (c) => c.endpoints },
  { name: "decodePool", type: "i32", length: (c) => c.endpoints },
  { name: "prefillSample", type: "i32", length: (c) => c.endpoints },
  { name: "decodeSample", type: "i32", length: (c) => c.endpoints },
  // ABI 5: seats, prefill-stage requests, scraped engine metrics, prefix-index sizes.
  { name: "maxSeqs", type: "f64", length: (c) => c.endpoints },
  { name: "prefillSeqs", type: "f64", length: (c) => c.endpoints },
  { name: "waitingObs", type: "f64", length: (c) => c.endpoints },
  { name: "runningObs", type: "f64", length: (c) => c.endpoints },
  { name: "kvUsageObs", type: "f64", length: (c) => c.endpoints },
  { name: "metricsAt", type: "f64", length: (c) => c.endpoints },
  { name: "prefixCount", type: "i32", length: (c) => c.endpoints },
  // ABI 6: the token budget, and decode KV reserved for requests still prefilling elsewhere.
  { name: "maxBatchedTokens", type: "f64", length: (c) => c.endpoints },
  { name: "pendingKv", type: "f64", length: (c) => c.endpoints },
  // ABI 7: prefix tiers (0: device, 1: only in the host tier) and matched host-tier blocks.
  { name: "nodeTier", type: "i32", length: (c) => c.prefixEntries },
  { name: "matchedHost", type: "i32", length: (c) => c.endpoints },
  // ABI 8: the decode step's per-sequence term (scheduling, sampling, per-request attention),
  // and of the active sequences those still prefilling elsewhere (not yet in the batch).
  { name: "decodeMsPerSeq", type: "f64", length: (c) => c.endpoints },
  { name: "pendingSeqs", type: "f64", length: (c) => c.endpoints },
  // ABI 9: of the active sequences, those no router this core coordinates with placed (other
  // clients, scraped): their finishes are refilled by their own clients (SLO admission's drain).
  { name: "externalSeqs", type: "f64", length: (c) => c.endpoints },
] as const satisfies readonly {
  name: string;
  type: ElementType;
  length: (c: CoreCapacity) => number;
}[];

export type RegionName = typeof REGIONS[number]["name"];

/** Region ids, by name (the index in `REGIONS`). */
export const REGION_ID: Readonly<Record<RegionName, number>> = Object.fromEntries(
  REGIONS.map((r, i) => [r.name, i]),
) as Record<RegionName, number>;

export const REGION_COUNT = REGIONS.length;

/**
 * Seeds for the integer mixer (murmur3's fmix32) that derives the prefill-stage tie-break
 * draw from the host's draw, so one host draw serves both stages.
 */
export const PREFILL_DRAW_SALT = 0x9e3779b9;

/**
 * Candidate sampling walks a pool of m endpoints with stride SAMPLE_STRIDE mod m: a prime
 * above the largest endpoint capacity (16384), so coprime with every m and the k sampled
 * positions are distinct.
 */
export const SAMPLE_STRIDE = 65537;

/** murmur3 fmix32: the only hashing in the spec (prefix-table slots, derived draws). */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
