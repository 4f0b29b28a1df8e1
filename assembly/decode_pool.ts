// The decode stage's pool pass: twin of src/core/reference/decode_pool.ts, with remoteTtft
// (src/core/reference/prefill_pool.ts) inlined. Every region base and config value is read
// once into a local (stores into scratch would otherwise force reloads), the per-class
// transfer times are computed once, and the per-endpoint loop calls nothing.

import {
  CFG_ALLOW_SPILLOVER, CFG_COST_MS_PER_DOLLAR_HOUR, CFG_DECODE_KV_USAGE_LIMIT,
  CFG_DISAGGREGATION, CFG_LOCAL_PREFILL_MAX_TOKENS, CFG_PREFILL_QUEUE_LIMIT_TOKENS,
  CFG_PREFIX_BLOCK_TOKENS, CFG_TELEMETRY_MAX_AGE_MS, CFG_TPOT_OBSERVED_WEIGHT,
  CFG_TTFT_OBSERVED_WEIGHT, DISAGGREGATION_ALWAYS, DISAGGREGATION_CONDITIONAL,
  LINKCLASS_CROSS_NUMA, LINKCLASS_NETWORK, LINKCLASS_NVLINK, LINKCLASS_PCIE, REQ_OUTPUT_TOKENS,
  REQ_PROMPT_TOKENS, ROLE_DECODE, ROLE_PREFILL,
} from "./abi";
import {
  base, capDomains, capHosts, capNumaPerHost, REGION_ACTIVE_KV, REGION_CONFIG, REGION_COST,
  REGION_COST_PER_HOUR, REGION_DECODE_BASE_MS, REGION_DECODE_MS_PER_BLOCK, REGION_DOMAIN,
  REGION_GROUP_MIN, REGION_HEALTHY, REGION_HOST, REGION_HOST_KV_FREE, REGION_KV_CAPACITY,
  REGION_MATCHED, REGION_NUMA, REGION_PREFILL_MS_PER_TOKEN, REGION_QUEUED_PREFILL,
  REGION_REQUEST, REGION_ROLE, REGION_SLAB_MS_PER_BLOCK, REGION_TPOT_OBS, REGION_TPOT_OBS_AT,
  REGION_TTFT_OBS, REGION_TTFT_OBS_AT,
} from "./layout";
import { f64At, i32At, setF64 } from "./mem";
import { pmax, pmin, transferMs } from "./model";

// The decode view of the chosen endpoint (AssemblyScript has no cheap tuples).
export let viewStep: f64 = 0;
export let viewLocal: f64 = 0;
export let viewSelf: f64 = 0;
export let viewRemote: f64 = 0;
export let viewTtft: f64 = 0;

/**
 * Scores the first `count` endpoints of the list at `members` into cost[] (Infinity when
 * ineligible) and returns the least cost. With `only >= 0`, scores just that endpoint and
 * leaves its parts in the view globals instead.
 */
export function scoreDecodePool(
  members: usize,
  count: i32,
  reqKv: f64,
  minAll: f64,
  now: f64,
  only: i32,
): f64 {
  const cfg = base(REGION_CONFIG);
  const gm = base(REGION_GROUP_MIN);
  const cost = base(REGION_COST);
  const healthy = base(REGION_HEALTHY);
  const role = base(REGION_ROLE);
  const activeKv = base(REGION_ACTIVE_KV);
  const kvCapacity = base(REGION_KV_CAPACITY);
  const hostKvFree = base(REGION_HOST_KV_FREE);
  const decodeBase = base(REGION_DECODE_BASE_MS);
  const decodePerBlock = base(REGION_DECODE_MS_PER_BLOCK);
  const slab = base(REGION_SLAB_MS_PER_BLOCK);
  const tpotObs = base(REGION_TPOT_OBS);
  const tpotObsAt = base(REGION_TPOT_OBS_AT);
  const ttftObs = base(REGION_TTFT_OBS);
  const ttftObsAt = base(REGION_TTFT_OBS_AT);
  const queued = base(REGION_QUEUED_PREFILL);
  const msPerToken = base(REGION_PREFILL_MS_PER_TOKEN);
  const matched = base(REGION_MATCHED);
  const domainCol = base(REGION_DOMAIN);
  const hostCol = base(REGION_HOST);
  const numaCol = base(REGION_NUMA);
  const costPerHour = base(REGION_COST_PER_HOUR);
  const request = base(REGION_REQUEST);
  const prompt = f64At(request, REQ_PROMPT_TOKENS);
  const output = f64At(request, REQ_OUTPUT_TOKENS);
  const mode = <i32>f64At(cfg, CFG_DISAGGREGATION);
  const limitFrac = f64At(cfg, CFG_DECODE_KV_USAGE_LIMIT);
  const blockTokens = f64At(cfg, CFG_PREFIX_BLOCK_TOKENS);
  const ttftWeight = f64At(cfg, CFG_TTFT_OBSERVED_WEIGHT);
  const tpotWeight = f64At(cfg, CFG_TPOT_OBSERVED_WEIGHT);
  const maxAge = f64At(cfg, CFG_TELEMETRY_MAX_AGE_MS);
  const localMax = f64At(cfg, CFG_LOCAL_PREFILL_MAX_TOKENS);
  const queueLimit = f64At(cfg, CFG_PREFILL_QUEUE_LIMIT_TOKENS);
  const spillover = f64At(cfg, CFG_ALLOW_SPILLOVER) != 0;
  const costWeight = f64At(cfg, CFG_COST_MS_PER_DOLLAR_HOUR);
  const anyPrefill = minAll < Infinity;
  const xNvlink = transferMs(LINKCLASS_NVLINK, prompt);
  const xPcie = transferMs(LINKCLASS_PCIE, prompt);
  const xCrossNuma = transferMs(LINKCLASS_CROSS_NUMA, prompt);
  const xNetwork = minAll + transferMs(LINKCLASS_NETWORK, prompt);
  const domains = capDomains;
  const numaPerHost = capNumaPerHost;
  const hostBase = domains + capHosts * numaPerHost;
  const end = only >= 0 ? 1 : count;
  let best = Infinity;
  for (let j = 0; j < end; j++) {
    const d = only >= 0 ? only : i32At(members, j);
    if (only < 0 && (i32At(healthy, d) == 0 || (i32At(role, d) & ROLE_DECODE) == 0)) {
      setF64(cost, d, Infinity);
      continue;
    }
    const kvNew = f64At(activeKv, d) + reqKv;
    const kvLimit = f64At(kvCapacity, d) * limitFrac;
    if (only < 0 && !(kvNew <= kvLimit + f64At(hostKvFree, d))) {
      setF64(cost, d, Infinity);
      continue;
    }
    const tpot = f64At(tpotObs, d);
    const tpotFloor = tpot > 0 && now - f64At(tpotObsAt, d) <= maxAge ? tpot * tpotWeight : 0;
    const step = pmax(f64At(decodeBase, d) + f64At(decodePerBlock, d) * kvNew, tpotFloor) +
      pmax(0, kvNew - kvLimit) * f64At(slab, d);
    const u = pmax(0, prompt - <f64>i32At(matched, d) * blockTokens);
    const ttftSeen = f64At(ttftObs, d);
    const ttftFloor = ttftSeen > 0 && now - f64At(ttftObsAt, d) <= maxAge ? ttftSeen * ttftWeight : 0;
    const local = pmax((f64At(queued, d) + u) * f64At(msPerToken, d), ttftFloor);
    const considerRemote = mode == DISAGGREGATION_ALWAYS
      ? anyPrefill
      : mode == DISAGGREGATION_CONDITIONAL && anyPrefill && u >= localMax;
    let remote = Infinity;
    let self = Infinity; // only read when remote is considered
    if (considerRemote) {
      const host = i32At(hostCol, d);
      let r = xNetwork;
      const dom = i32At(domainCol, d);
      if (dom >= 0) r = pmin(r, f64At(gm, dom) + xNvlink);
      r = pmin(r, f64At(gm, domains + host * numaPerHost + i32At(numaCol, d)) + xPcie);
      r = pmin(r, f64At(gm, hostBase + host) + xCrossNuma);
      r = r + step;
      // Prefill on d itself (prefillEligible(d); d is healthy): no transfer.
      self = (i32At(role, d) & ROLE_PREFILL) != 0 && f64At(queued, d) <= queueLimit
        ? local
        : Infinity;
      remote = pmin(r, self);
    }
    let ttft: f64;
    if (mode == DISAGGREGATION_ALWAYS) {
      ttft = anyPrefill ? remote : (spillover ? local : Infinity);
    } else {
      ttft = pmin(local, remote);
    }
    if (only >= 0) {
      viewStep = step;
      viewLocal = local;
      viewSelf = self;
      viewRemote = remote;
      viewTtft = ttft;
    } else {
      const c = ttft + output * step + f64At(costPerHour, d) * costWeight;
      setF64(cost, d, c);
      if (c < best) best = c;
    }
  }
  return best;
}
