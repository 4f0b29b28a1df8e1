// The predictive routing decision: twin of src/core/reference/route_predictive.ts (read that
// file's header for the policy; docs/POLICY.md for the formulas). Decode first, then the
// prefill endpoint for the chosen decode endpoint, all scores in predicted ms.
//
// Written for speed: every region base and config value is read once per decision into a
// local (stores into scratch regions would otherwise force reloads), the per-class transfer
// times are computed once, and the per-endpoint loops call nothing. The arithmetic is the
// reference's, operation for operation.

import {
  CFG_ALLOW_SPILLOVER, CFG_COST_MS_PER_DOLLAR_HOUR, CFG_DECODE_KV_USAGE_LIMIT,
  CFG_DISAGGREGATION, CFG_KV_BLOCK_TOKENS, CFG_LOCAL_PREFILL_MAX_TOKENS,
  CFG_PREFILL_QUEUE_LIMIT_TOKENS, CFG_PREFIX_BLOCK_TOKENS, CFG_TELEMETRY_MAX_AGE_MS,
  CFG_TPOT_OBSERVED_WEIGHT, CFG_TTFT_OBSERVED_WEIGHT, CTR_ENDPOINT_COUNT, DISAGGREGATION_ALWAYS,
  DISAGGREGATION_CONDITIONAL, DISAGGREGATION_NEVER, LINKCLASS_CROSS_NUMA, LINKCLASS_NETWORK,
  LINKCLASS_NVLINK, LINKCLASS_PCIE, PREFILL_DRAW_SALT, REQ_OUTPUT_TOKENS, REQ_PROMPT_TOKENS,
  RES_COST_MS, RES_DECODE, RES_DISAGGREGATED, RES_PREFILL, RES_REQUEST_KV_BLOCKS, RES_STATUS,
  RES_TPOT_MS, RES_TRANSFER_MS, RES_TTFT_MS, RES_UNCACHED_TOKENS, ROLE_DECODE, ROLE_PREFILL,
  STATUS_NO_DECODE_CAPACITY, STATUS_NO_PREFILL_CAPACITY, STATUS_OK,
} from "./abi";
import {
  base, capDomains, capHosts, capNumaPerHost, REGION_ACTIVE_KV, REGION_CANDIDATES, REGION_CONFIG,
  REGION_COST,
  REGION_COST_PER_HOUR, REGION_COUNTERS, REGION_DECODE_BASE_MS, REGION_DECODE_MS_PER_BLOCK,
  REGION_DOMAIN, REGION_GROUP_MIN, REGION_HEALTHY, REGION_HOST, REGION_HOST_KV_FREE,
  REGION_KV_CAPACITY, REGION_MATCHED, REGION_NUMA, REGION_PREFILL_MS_PER_TOKEN,
  REGION_PREFILL_TIME, REGION_QUEUED_PREFILL, REGION_REQUEST, REGION_RESULT, REGION_ROLE,
  REGION_SLAB_MS_PER_BLOCK, REGION_TPOT_OBS, REGION_TPOT_OBS_AT, REGION_TTFT_OBS,
  REGION_TTFT_OBS_AT,
} from "./layout";
import { f64At, i32At, setF64, setI32 } from "./mem";
import { mix32 } from "./mix";
import { linkClass, transferMs, uncachedTokens } from "./model";
import { pickNearMinimum, tieThreshold } from "./pick";
import { clearMatches, matchPrefix } from "./prefix_match";

/**
 * Fills prefillTime[p] (+Infinity when p cannot prefill) and the group minima per NVLink
 * domain, per (host, NUMA node) and per host. Returns the global minimum.
 */
function scorePrefillPool(n: i32, prompt: f64, now: f64): f64 {
  const cfg = base(REGION_CONFIG);
  const gm = base(REGION_GROUP_MIN);
  const domainCol = base(REGION_DOMAIN);
  const hostCol = base(REGION_HOST);
  const numaCol = base(REGION_NUMA);
  const healthy = base(REGION_HEALTHY);
  const role = base(REGION_ROLE);
  const queued = base(REGION_QUEUED_PREFILL);
  const msPerToken = base(REGION_PREFILL_MS_PER_TOKEN);
  const matched = base(REGION_MATCHED);
  const ttftObs = base(REGION_TTFT_OBS);
  const ttftObsAt = base(REGION_TTFT_OBS_AT);
  const prefillTime = base(REGION_PREFILL_TIME);
  const queueLimit = f64At(cfg, CFG_PREFILL_QUEUE_LIMIT_TOKENS);
  const blockTokens = f64At(cfg, CFG_PREFIX_BLOCK_TOKENS);
  const weight = f64At(cfg, CFG_TTFT_OBSERVED_WEIGHT);
  const maxAge = f64At(cfg, CFG_TELEMETRY_MAX_AGE_MS);
  const domains = capDomains;
  const numaPerHost = capNumaPerHost;
  const hostBase = domains + capHosts * numaPerHost;
  for (let e = 0; e < n; e++) {
    const dom = i32At(domainCol, e);
    if (dom >= 0) setF64(gm, dom, Infinity);
    const host = i32At(hostCol, e);
    setF64(gm, domains + host * numaPerHost + i32At(numaCol, e), Infinity);
    setF64(gm, hostBase + host, Infinity);
  }
  let minAll = Infinity;
  for (let e = 0; e < n; e++) {
    const q = f64At(queued, e);
    if (i32At(healthy, e) == 0 || (i32At(role, e) & ROLE_PREFILL) == 0 || !(q <= queueLimit)) {
      setF64(prefillTime, e, Infinity);
      continue;
    }
    const u = max<f64>(0, prompt - <f64>i32At(matched, e) * blockTokens);
    const obs = f64At(ttftObs, e);
    const floor = obs > 0 && now - f64At(ttftObsAt, e) <= maxAge ? obs * weight : 0;
    const t = max<f64>((q + u) * f64At(msPerToken, e), floor);
    setF64(prefillTime, e, t);
    if (t < minAll) minAll = t;
    const dom = i32At(domainCol, e);
    if (dom >= 0 && t < f64At(gm, dom)) setF64(gm, dom, t);
    const host = i32At(hostCol, e);
    const hn = domains + host * numaPerHost + i32At(numaCol, e);
    if (t < f64At(gm, hn)) setF64(gm, hn, t);
    const h = hostBase + host;
    if (t < f64At(gm, h)) setF64(gm, h, t);
  }
  return minAll;
}

// The decode view of the chosen endpoint (AssemblyScript has no cheap tuples).
let viewStep: f64 = 0;
let viewLocal: f64 = 0;
let viewRemote: f64 = 0;
let viewTtft: f64 = 0;

/**
 * Scores every decode endpoint into cost[] (Infinity when ineligible). With `only >= 0`, scores
 * just that endpoint and leaves its parts in the view globals instead.
 */
function scoreDecodePool(n: i32, reqKv: f64, minAll: f64, now: f64, only: i32): f64 {
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
  const prefillTime = base(REGION_PREFILL_TIME);
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
  const first = only >= 0 ? only : 0;
  const end = only >= 0 ? only + 1 : n;
  let best = Infinity;
  for (let d = first; d < end; d++) {
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
    const step = max<f64>(f64At(decodeBase, d) + f64At(decodePerBlock, d) * kvNew, tpotFloor) +
      max<f64>(0, kvNew - kvLimit) * f64At(slab, d);
    const u = max<f64>(0, prompt - <f64>i32At(matched, d) * blockTokens);
    const ttftSeen = f64At(ttftObs, d);
    const ttftFloor = ttftSeen > 0 && now - f64At(ttftObsAt, d) <= maxAge ? ttftSeen * ttftWeight : 0;
    const local = max<f64>((f64At(queued, d) + u) * f64At(msPerToken, d), ttftFloor);
    const considerRemote = mode == DISAGGREGATION_ALWAYS
      ? anyPrefill
      : mode == DISAGGREGATION_CONDITIONAL && anyPrefill && u >= localMax;
    let remote = Infinity;
    if (considerRemote) {
      const host = i32At(hostCol, d);
      let r = xNetwork;
      const dom = i32At(domainCol, d);
      if (dom >= 0) r = min<f64>(r, f64At(gm, dom) + xNvlink);
      r = min<f64>(r, f64At(gm, domains + host * numaPerHost + i32At(numaCol, d)) + xPcie);
      r = min<f64>(r, f64At(gm, hostBase + host) + xCrossNuma);
      r = r + step;
      remote = min<f64>(r, f64At(prefillTime, d));
    }
    let ttft: f64;
    if (mode == DISAGGREGATION_ALWAYS) {
      ttft = anyPrefill ? remote : (spillover ? local : Infinity);
    } else {
      ttft = min<f64>(local, remote);
    }
    if (only >= 0) {
      viewStep = step;
      viewLocal = local;
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

/**
 * Prices every prefill endpoint for decode endpoint d into cost[] and picks among the
 * near-minimum in the same pass: `best` is remote(d), which the exact group minima make the
 * least of these costs, so no pass is needed to find it.
 */
function pickPrefill(n: i32, d: i32, prompt: f64, step: f64, best: f64, draw: u32): i32 {
  const cost = base(REGION_COST);
  const candidates = base(REGION_CANDIDATES);
  const prefillTime = base(REGION_PREFILL_TIME);
  const domainCol = base(REGION_DOMAIN);
  const hostCol = base(REGION_HOST);
  const numaCol = base(REGION_NUMA);
  const dDomain = i32At(domainCol, d);
  const dHost = i32At(hostCol, d);
  const dNuma = i32At(numaCol, d);
  const xNvlink = transferMs(LINKCLASS_NVLINK, prompt);
  const xPcie = transferMs(LINKCLASS_PCIE, prompt);
  const xCrossNuma = transferMs(LINKCLASS_CROSS_NUMA, prompt);
  const xNetwork = transferMs(LINKCLASS_NETWORK, prompt);
  const threshold = tieThreshold(best);
  let count = 0;
  for (let e = 0; e < n; e++) {
    let c = f64At(prefillTime, e);
    if (c != Infinity && e != d) {
      // linkClass(e, d), inline: first match wins.
      const dom = i32At(domainCol, e);
      const x = dom >= 0 && dom == dDomain
        ? xNvlink
        : i32At(hostCol, e) != dHost
        ? xNetwork
        : i32At(numaCol, e) == dNuma
        ? xPcie
        : xCrossNuma;
      c = c + x + step;
    }
    setF64(cost, e, c);
    if (c <= threshold) setI32(candidates, count++, e);
  }
  return i32At(candidates, <i32>(draw % <u32>count));
}

export function routePredictive(now: f64, draw: u32): i32 {
  const touchedCount = matchPrefix();
  const status = decide(now, draw);
  clearMatches(touchedCount);
  return status;
}

function decide(now: f64, draw: u32): i32 {
  const cfg = base(REGION_CONFIG);
  const res = base(REGION_RESULT);
  const cost = base(REGION_COST);
  const n = i32At(base(REGION_COUNTERS), CTR_ENDPOINT_COUNT);
  const prompt = f64At(base(REGION_REQUEST), REQ_PROMPT_TOKENS);
  const output = f64At(base(REGION_REQUEST), REQ_OUTPUT_TOKENS);
  const mode = <i32>f64At(cfg, CFG_DISAGGREGATION);
  const reqKv = Math.ceil((prompt + output) / f64At(cfg, CFG_KV_BLOCK_TOKENS));
  const costWeight = f64At(cfg, CFG_COST_MS_PER_DOLLAR_HOUR);
  const minAll = mode == DISAGGREGATION_NEVER ? Infinity : scorePrefillPool(n, prompt, now);

  const best = scoreDecodePool(n, reqKv, minAll, now, -1);
  const d = pickNearMinimum(n, best, draw);
  setF64(res, RES_REQUEST_KV_BLOCKS, reqKv);
  if (d < 0) {
    const noPrefill = mode == DISAGGREGATION_ALWAYS && !(minAll < Infinity) &&
      f64At(cfg, CFG_ALLOW_SPILLOVER) == 0;
    return writeFailure(noPrefill ? STATUS_NO_PREFILL_CAPACITY : STATUS_NO_DECODE_CAPACITY);
  }

  scoreDecodePool(n, reqKv, minAll, now, d);
  const useRemote = mode == DISAGGREGATION_ALWAYS ? minAll < Infinity : viewRemote < viewLocal;
  let p = d;
  let ttft = viewLocal;
  let transfer: f64 = 0;
  if (useRemote) {
    p = pickPrefill(n, d, prompt, viewStep, viewRemote, mix32(draw ^ PREFILL_DRAW_SALT));
    ttft = f64At(cost, p);
    transfer = transferMs(linkClass(p, d), prompt);
  }
  setF64(res, RES_STATUS, <f64>STATUS_OK);
  setF64(res, RES_PREFILL, <f64>p);
  setF64(res, RES_DECODE, <f64>d);
  setF64(res, RES_DISAGGREGATED, p == d ? 0 : 1);
  setF64(res, RES_TTFT_MS, ttft);
  setF64(res, RES_TPOT_MS, viewStep);
  setF64(res, RES_UNCACHED_TOKENS, uncachedTokens(p, prompt));
  setF64(res, RES_TRANSFER_MS, transfer);
  setF64(res, RES_COST_MS, ttft + output * viewStep + f64At(base(REGION_COST_PER_HOUR), d) * costWeight);
  return STATUS_OK;
}

export function writeFailure(status: i32): i32 {
  const res = base(REGION_RESULT);
  setF64(res, RES_STATUS, <f64>status);
  setF64(res, RES_PREFILL, -1);
  setF64(res, RES_DECODE, -1);
  setF64(res, RES_DISAGGREGATED, 0);
  setF64(res, RES_TTFT_MS, Infinity);
  setF64(res, RES_TPOT_MS, Infinity);
  setF64(res, RES_UNCACHED_TOKENS, 0);
  setF64(res, RES_TRANSFER_MS, 0);
  setF64(res, RES_COST_MS, Infinity);
  return status;
}
