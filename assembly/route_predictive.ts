// The predictive routing decision: twin of src/core/reference/route_predictive.ts (read that
// file's header for the policy; docs/POLICY.md for the formulas). Decode first, then the
// prefill endpoint for the chosen decode endpoint, all scores in predicted ms.

import {
  CFG_ALLOW_SPILLOVER,
  CFG_COST_MS_PER_DOLLAR_HOUR,
  CFG_DISAGGREGATION,
  CFG_KV_BLOCK_TOKENS,
  CFG_LOCAL_PREFILL_MAX_TOKENS,
  CFG_PREFILL_QUEUE_LIMIT_TOKENS,
  CTR_ENDPOINT_COUNT,
  DISAGGREGATION_ALWAYS,
  DISAGGREGATION_CONDITIONAL,
  DISAGGREGATION_NEVER,
  LINKCLASS_CROSS_NUMA,
  LINKCLASS_NETWORK,
  LINKCLASS_NVLINK,
  LINKCLASS_PCIE,
  PREFILL_DRAW_SALT,
  REQ_OUTPUT_TOKENS,
  REQ_PROMPT_TOKENS,
  RES_COST_MS,
  RES_DECODE,
  RES_DISAGGREGATED,
  RES_PREFILL,
  RES_REQUEST_KV_BLOCKS,
  RES_STATUS,
  RES_TPOT_MS,
  RES_TRANSFER_MS,
  RES_TTFT_MS,
  RES_UNCACHED_TOKENS,
  ROLE_DECODE,
  ROLE_PREFILL,
  STATUS_NO_DECODE_CAPACITY,
  STATUS_NO_PREFILL_CAPACITY,
  STATUS_OK,
} from "./abi";
import {
  base,
  capDomains,
  capHosts,
  capNumaPerHost,
  REGION_ACTIVE_KV,
  REGION_CONFIG,
  REGION_COST,
  REGION_COST_PER_HOUR,
  REGION_COUNTERS,
  REGION_DOMAIN,
  REGION_GROUP_MIN,
  REGION_HEALTHY,
  REGION_HOST,
  REGION_NUMA,
  REGION_PREFILL_TIME,
  REGION_QUEUED_PREFILL,
  REGION_REQUEST,
  REGION_RESULT,
  REGION_ROLE,
} from "./layout";
import { f64At, i32At, setF64 } from "./mem";
import { mix32 } from "./mix";
import { fitsKv, linkClass, prefillTimeMs, stepTimeMs, transferMs, uncachedTokens } from "./model";
import { pickNearMinimum } from "./pick";
import { clearMatches, matchPrefix } from "./prefix_match";

function prefillEligible(e: i32): bool {
  return i32At(base(REGION_HEALTHY), e) != 0 && (i32At(base(REGION_ROLE), e) & ROLE_PREFILL) != 0 &&
    f64At(base(REGION_QUEUED_PREFILL), e) <=
      f64At(base(REGION_CONFIG), CFG_PREFILL_QUEUE_LIMIT_TOKENS);
}

function decodeEligible(e: i32, reqKv: f64): bool {
  return i32At(base(REGION_HEALTHY), e) != 0 && (i32At(base(REGION_ROLE), e) & ROLE_DECODE) != 0 &&
    fitsKv(e, reqKv);
}

function scorePrefillPool(n: i32, prompt: f64, now: f64): f64 {
  const gm = base(REGION_GROUP_MIN);
  const domainCol = base(REGION_DOMAIN);
  const hostCol = base(REGION_HOST);
  const numaCol = base(REGION_NUMA);
  const prefillTime = base(REGION_PREFILL_TIME);
  const hostBase = capDomains + capHosts * capNumaPerHost;
  for (let e = 0; e < n; e++) {
    const dom = i32At(domainCol, e);
    if (dom >= 0) setF64(gm, dom, Infinity);
    setF64(gm, capDomains + i32At(hostCol, e) * capNumaPerHost + i32At(numaCol, e), Infinity);
    setF64(gm, hostBase + i32At(hostCol, e), Infinity);
  }
  let minAll = Infinity;
  for (let e = 0; e < n; e++) {
    if (!prefillEligible(e)) {
      setF64(prefillTime, e, Infinity);
      continue;
    }
    const t = prefillTimeMs(e, uncachedTokens(e, prompt), now);
    setF64(prefillTime, e, t);
    if (t < minAll) minAll = t;
    const dom = i32At(domainCol, e);
    if (dom >= 0 && t < f64At(gm, dom)) setF64(gm, dom, t);
    const hn = capDomains + i32At(hostCol, e) * capNumaPerHost + i32At(numaCol, e);
    if (t < f64At(gm, hn)) setF64(gm, hn, t);
    const h = hostBase + i32At(hostCol, e);
    if (t < f64At(gm, h)) setF64(gm, h, t);
  }
  return minAll;
}

function remoteTtft(d: i32, step: f64, minAll: f64, prompt: f64): f64 {
  const gm = base(REGION_GROUP_MIN);
  const host = i32At(base(REGION_HOST), d);
  let r = minAll + transferMs(LINKCLASS_NETWORK, prompt);
  const dom = i32At(base(REGION_DOMAIN), d);
  if (dom >= 0) r = min<f64>(r, f64At(gm, dom) + transferMs(LINKCLASS_NVLINK, prompt));
  r = min<f64>(
    r,
    f64At(gm, capDomains + host * capNumaPerHost + i32At(base(REGION_NUMA), d)) +
      transferMs(LINKCLASS_PCIE, prompt),
  );
  r = min<f64>(
    r,
    f64At(gm, capDomains + capHosts * capNumaPerHost + host) +
      transferMs(LINKCLASS_CROSS_NUMA, prompt),
  );
  r = r + step;
  return min<f64>(r, f64At(base(REGION_PREFILL_TIME), d));
}

// The decode view of the last `scoreDecode` call (AssemblyScript has no cheap tuples).
let viewStep: f64 = 0;
let viewLocal: f64 = 0;
let viewRemote: f64 = 0;
let viewTtft: f64 = 0;

function scoreDecode(d: i32, reqKv: f64, minAll: f64, now: f64): void {
  const cfg = base(REGION_CONFIG);
  const prompt = f64At(base(REGION_REQUEST), REQ_PROMPT_TOKENS);
  const mode = <i32>f64At(cfg, CFG_DISAGGREGATION);
  const anyPrefill = minAll < Infinity;
  const step = stepTimeMs(d, f64At(base(REGION_ACTIVE_KV), d) + reqKv, now);
  const u = uncachedTokens(d, prompt);
  const local = prefillTimeMs(d, u, now);
  const considerRemote = mode == DISAGGREGATION_ALWAYS
    ? anyPrefill
    : mode == DISAGGREGATION_CONDITIONAL && anyPrefill &&
      u >= f64At(cfg, CFG_LOCAL_PREFILL_MAX_TOKENS);
  const remote = considerRemote ? remoteTtft(d, step, minAll, prompt) : Infinity;
  let ttft: f64;
  if (mode == DISAGGREGATION_ALWAYS) {
    ttft = anyPrefill ? remote : (f64At(cfg, CFG_ALLOW_SPILLOVER) != 0 ? local : Infinity);
  } else {
    ttft = min<f64>(local, remote);
  }
  viewStep = step;
  viewLocal = local;
  viewRemote = remote;
  viewTtft = ttft;
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
  const costPerHour = base(REGION_COST_PER_HOUR);
  const prefillTime = base(REGION_PREFILL_TIME);
  const n = i32At(base(REGION_COUNTERS), CTR_ENDPOINT_COUNT);
  const prompt = f64At(base(REGION_REQUEST), REQ_PROMPT_TOKENS);
  const output = f64At(base(REGION_REQUEST), REQ_OUTPUT_TOKENS);
  const mode = <i32>f64At(cfg, CFG_DISAGGREGATION);
  const reqKv = Math.ceil((prompt + output) / f64At(cfg, CFG_KV_BLOCK_TOKENS));
  const costWeight = f64At(cfg, CFG_COST_MS_PER_DOLLAR_HOUR);
  const minAll = mode == DISAGGREGATION_NEVER ? Infinity : scorePrefillPool(n, prompt, now);

  for (let d = 0; d < n; d++) {
    if (!decodeEligible(d, reqKv)) {
      setF64(cost, d, Infinity);
      continue;
    }
    scoreDecode(d, reqKv, minAll, now);
    setF64(cost, d, viewTtft + output * viewStep + f64At(costPerHour, d) * costWeight);
  }
  const d = pickNearMinimum(n, draw);
  setF64(res, RES_REQUEST_KV_BLOCKS, reqKv);
  if (d < 0) {
    const noPrefill = mode == DISAGGREGATION_ALWAYS && !(minAll < Infinity) &&
      f64At(cfg, CFG_ALLOW_SPILLOVER) == 0;
    return writeFailure(noPrefill ? STATUS_NO_PREFILL_CAPACITY : STATUS_NO_DECODE_CAPACITY);
  }

  scoreDecode(d, reqKv, minAll, now);
  const useRemote = mode == DISAGGREGATION_ALWAYS ? minAll < Infinity : viewRemote < viewLocal;
  let p = d;
  let ttft = viewLocal;
  let transfer: f64 = 0;
  if (useRemote) {
    for (let e = 0; e < n; e++) {
      const t = f64At(prefillTime, e);
      setF64(
        cost,
        e,
        t == Infinity || e == d ? t : t + transferMs(linkClass(e, d), prompt) + viewStep,
      );
    }
    p = pickNearMinimum(n, mix32(draw ^ PREFILL_DRAW_SALT));
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
  setF64(res, RES_COST_MS, ttft + output * viewStep + f64At(costPerHour, d) * costWeight);
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
