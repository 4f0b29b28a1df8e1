// The ABI constants of the WASM core. They mirror src/core/abi.ts one for one;
// tests/core/abi_test.ts fails if the two ever disagree. See docs/ABI.md.

export const ABI_VERSION: i32 = 9;

export const STATUS_OK: i32 = 0;
export const STATUS_NO_DECODE_CAPACITY: i32 = 1;
export const STATUS_NO_PREFILL_CAPACITY: i32 = 2;
export const STATUS_BAD_STATE: i32 = 3;
export const STATUS_ALREADY_INITIALIZED: i32 = 4;
export const STATUS_BAD_CAPACITY: i32 = 5;
export const STATUS_NOT_INITIALIZED: i32 = 6;

export const ROLE_NONE: i32 = 0;
export const ROLE_PREFILL: i32 = 1;
export const ROLE_DECODE: i32 = 2;
export const ROLE_BOTH: i32 = 3;

export const POLICYKIND_ROUND_ROBIN: i32 = 0;
export const POLICYKIND_PREDICTIVE: i32 = 1;
export const POLICYKIND_PEER: i32 = 2;

export const DISAGGREGATION_NEVER: i32 = 0;
export const DISAGGREGATION_ALWAYS: i32 = 1;
export const DISAGGREGATION_CONDITIONAL: i32 = 2;

export const LINKCLASS_SAME: i32 = 0;
export const LINKCLASS_NVLINK: i32 = 1;
export const LINKCLASS_PCIE: i32 = 2;
export const LINKCLASS_CROSS_NUMA: i32 = 3;
export const LINKCLASS_NETWORK: i32 = 4;

export const CFG_POLICY: i32 = 0;
export const CFG_DISAGGREGATION: i32 = 1;
export const CFG_KV_BLOCK_TOKENS: i32 = 2;
export const CFG_PREFIX_BLOCK_TOKENS: i32 = 3;
export const CFG_LOCAL_PREFILL_MAX_TOKENS: i32 = 4;
export const CFG_PREFILL_QUEUE_LIMIT_TOKENS: i32 = 5;
export const CFG_DECODE_KV_USAGE_LIMIT: i32 = 6;
export const CFG_ALLOW_SPILLOVER: i32 = 7;
export const CFG_TTFT_OBSERVED_WEIGHT: i32 = 8;
export const CFG_TPOT_OBSERVED_WEIGHT: i32 = 9;
export const CFG_TELEMETRY_MAX_AGE_MS: i32 = 10;
export const CFG_TIE_WINDOW_MS: i32 = 11;
export const CFG_TIE_WINDOW_RELATIVE: i32 = 12;
export const CFG_COST_MS_PER_DOLLAR_HOUR: i32 = 13;
export const CFG_XFER_MS_PER_TOKEN_NVLINK: i32 = 14;
export const CFG_XFER_MS_PER_TOKEN_PCIE: i32 = 15;
export const CFG_XFER_MS_PER_TOKEN_CROSS_NUMA: i32 = 16;
export const CFG_XFER_MS_PER_TOKEN_NETWORK: i32 = 17;
export const CFG_XFER_LATENCY_MS_NVLINK: i32 = 18;
export const CFG_XFER_LATENCY_MS_PCIE: i32 = 19;
export const CFG_XFER_LATENCY_MS_CROSS_NUMA: i32 = 20;
export const CFG_XFER_LATENCY_MS_NETWORK: i32 = 21;
export const CFG_MIGRATION_BUDGET: i32 = 22;
export const CFG_MIGRATION_WINDOW_MS: i32 = 23;
export const CFG_MIGRATION_GAP_MS: i32 = 24;
export const CFG_MIGRATION_OVERHEAD_MS: i32 = 25;
export const CFG_MIGRATION_MAX_MOVES: i32 = 26;
export const CFG_CANDIDATE_SAMPLE: i32 = 27;
export const CFG_INTERFERENCE_WEIGHT: i32 = 28;
export const CFG_SLO_TTFT_MS: i32 = 29;
export const CFG_SLO_TPOT_MS: i32 = 30;
export const CFG_SLO_MISS_WEIGHT: i32 = 31;
export const CFG_SLO_BAND: i32 = 32;
export const CFG_HOST_TIER_CREDIT: i32 = 33;
export const CFG_COUNT: i32 = 34;

export const REQ_PROMPT_TOKENS: i32 = 0;
export const REQ_OUTPUT_TOKENS: i32 = 1;
export const REQ_BLOCK_COUNT: i32 = 2;
export const REQ_COUNT: i32 = 4;

export const RES_STATUS: i32 = 0;
export const RES_PREFILL: i32 = 1;
export const RES_DECODE: i32 = 2;
export const RES_DISAGGREGATED: i32 = 3;
export const RES_TTFT_MS: i32 = 4;
export const RES_TPOT_MS: i32 = 5;
export const RES_UNCACHED_TOKENS: i32 = 6;
export const RES_TRANSFER_MS: i32 = 7;
export const RES_REQUEST_KV_BLOCKS: i32 = 8;
export const RES_COST_MS: i32 = 9;
export const RES_TTFT_MODEL_MS: i32 = 10;
export const RES_TPOT_MODEL_MS: i32 = 11;
export const RES_COUNT: i32 = 12;

export const MOVE_SEQUENCE: i32 = 0;
export const MOVE_FROM: i32 = 1;
export const MOVE_TO: i32 = 2;
export const MOVE_BENEFIT_MS: i32 = 3;
export const MOVE_COST_MS: i32 = 4;
export const MOVE_KV_BLOCKS: i32 = 5;
export const MOVE_STRIDE: i32 = 6;

export const CTR_ENDPOINT_COUNT: i32 = 0;
export const CTR_SEQ_HIGH_WATER: i32 = 1;
export const CTR_PREFIX_FREE_HEAD: i32 = 2;
export const CTR_PREFIX_ENTRIES: i32 = 3;
export const CTR_RR_PREFILL: i32 = 4;
export const CTR_RR_DECODE: i32 = 5;
export const CTR_MIGRATION_RING_HEAD: i32 = 6;
export const CTR_MIGRATION_RING_COUNT: i32 = 7;
export const CTR_PREFILL_POOL_COUNT: i32 = 8;
export const CTR_DECODE_POOL_COUNT: i32 = 9;
export const CTR_COUNT: i32 = 10;

export const CAP_ENDPOINTS: i32 = 0;
export const CAP_SEQUENCES: i32 = 1;
export const CAP_PREFIX_ENTRIES: i32 = 2;
export const CAP_PREFIX_TABLE: i32 = 3;
export const CAP_REQUEST_BLOCKS: i32 = 4;
export const CAP_HOSTS: i32 = 5;
export const CAP_NUMA_PER_HOST: i32 = 6;
export const CAP_DOMAINS: i32 = 7;
export const CAP_MOVES: i32 = 8;
export const CAP_MIGRATION_BUDGET: i32 = 9;
export const CAP_COUNT: i32 = 10;

export const PREFILL_DRAW_SALT: u32 = 0x9e3779b9;
export const SAMPLE_STRIDE: u32 = 65537;
