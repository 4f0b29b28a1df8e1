// The predictive routing decision: twin of src/core/reference/route_predictive.ts (read that
// file's header for the policy; docs/POLICY.md for the formulas). Decode first, then the
// prefill endpoint for the chosen decode endpoint, all scores in predicted ms.

import {
  CFG_ALLOW_SPILLOVER, CFG_COST_MS_PER_DOLLAR_HOUR, CFG_DISAGGREGATION, CFG_KV_BLOCK_TOKENS,
  CFG_LOCAL_PREFILL_MAX_TOKENS, DISAGGREGATION_ALWAYS, DISAGGREGATION_CONDITIONAL,
  LINKCLASS_CROSS_NUMA, LINKCLASS_NETWORK, LINKCLASS_NVLINK,
  LINKCLASS_PCIE, PREFILL_DRAW_SALT, REQ_OUTPUT_TOKENS, REQ_PROMPT_TOKENS, RES_COST_MS,
  RES_DECODE, RES_DISAGGREGATED, RES_PREFILL, RES_REQUEST_KV_BLOCKS, RES_STATUS, RES_TPOT_MS,
  RES_TRANSFER_MS, RES_TTFT_MS, RES_UNCACHED_TOKENS, STATUS_NO_DECODE_CAPACITY,
  STATUS_NO_PREFILL_CAPACITY, STATUS_OK,
} from "./abi";
import {
  decodeCount, decodeMembers, prepareDecode, scoreDecodeStage, scoreDecodeView, viewCost,
  viewRemote, viewSelf, viewStep, viewUseRemote,
} from "./decode_pool";
import {
  base, REGION_CANDIDATES, REGION_CONFIG, REGION_COST_PER_HOUR, REGION_DOMAIN, REGION_HOST,
  REGION_NUMA, REGION_PREFILL_TIME, REGION_REQUEST, REGION_RESULT,
} from "./layout";
import { f64At, i32At, setF64, setI32 } from "./mem";
import { mix32 } from "./mix";
import { linkClass, prefillTimeMs, transferMs, uncachedTokens } from "./model";
import { pickNearMinimum, tieThreshold } from "./pick";
import {
  clearGroups, prefillCount, prefillMembers, scoreGroups, scorePrefillStage,
} from "./prefill_pool";
import { clearMatches, matchPrefix } from "./prefix_match";
import { writeDecision, writeFailure, writeModelTimes } from "./result";

export function routePredictive(now: f64, draw: u32): i32 {
  const touchedCount = matchPrefix();
  const status = decide(now, draw, touchedCount);
  clearMatches(touchedCount);
  return status;
}

function needsPrefillPool(prompt: f64): bool {
  const cfg = base(REGION_CONFIG);
  const mode = <i32>f64At(cfg, CFG_DISAGGREGATION);
  return mode == DISAGGREGATION_ALWAYS ||
    (mode == DISAGGREGATION_CONDITIONAL && prompt >= f64At(cfg, CFG_LOCAL_PREFILL_MAX_TOKENS));
}

function decide(now: f64, draw: u32, touchedCount: i32): i32 {
  const prompt = f64At(base(REGION_REQUEST), REQ_PROMPT_TOKENS);
  const prefillDraw = mix32(draw ^ PREFILL_DRAW_SALT);
  const minAll = needsPrefillPool(prompt)
    ? scorePrefillStage(prompt, now, prefillDraw, touchedCount)
    : Infinity;
  const groups = minAll < Infinity ? scoreGroups(prefillMembers, prefillCount, prompt, minAll) : 0;
  const status = decideWithGroups(now, draw, prefillDraw, touchedCount, minAll);
  clearGroups(groups);
  return status;
}

function decideWithGroups(
  now: f64,
  draw: u32,
  prefillDraw: u32,
  touchedCount: i32,
  minAll: f64,
): i32 {
  const cfg = base(REGION_CONFIG);
  const res = base(REGION_RESULT);
  const prompt = f64At(base(REGION_REQUEST), REQ_PROMPT_TOKENS);
  const output = f64At(base(REGION_REQUEST), REQ_OUTPUT_TOKENS);
  const mode = <i32>f64At(cfg, CFG_DISAGGREGATION);
  const reqKv = Math.ceil((prompt + output) / f64At(cfg, CFG_KV_BLOCK_TOKENS));

  prepareDecode(reqKv, minAll, now);
  const best = scoreDecodeStage(draw, touchedCount);
  const d = pickNearMinimum(decodeMembers, decodeCount, best, draw);
  setF64(res, RES_REQUEST_KV_BLOCKS, reqKv);
  if (d < 0) {
    const noPrefill = mode == DISAGGREGATION_ALWAYS && !(minAll < Infinity) &&
      f64At(cfg, CFG_ALLOW_SPILLOVER) == 0;
    return writeFailure(noPrefill ? STATUS_NO_PREFILL_CAPACITY : STATUS_NO_DECODE_CAPACITY);
  }

  scoreDecodeView(d);
  let p = d;
  let transfer: f64 = 0;
  if (viewUseRemote) {
    p = pickPrefill(d, prompt, prefillDraw);
    transfer = transferMs(linkClass(p, d), prompt);
  }
  // The reported TTFT is the request's own: the prefill time without the interference term.
  const uncached = uncachedTokens(p, prompt);
  const ownPrefill = prefillTimeMs(p, uncached, now);
  const ttft = p == d ? ownPrefill : ownPrefill + transfer + viewStep;
  writeModelTimes(p, d, uncached, transfer, reqKv);
  return writeDecision(p, d, ttft, viewStep, uncached, transfer, viewCost);
}

/**
 * Lists the near-minimum prefill endpoints for decode endpoint d (the prefill stage's
 * members, then d itself) and picks one. Their minimum is remote(d), exact; p with t[p] above the threshold
 * is skipped unpriced.
 */
function pickPrefill(d: i32, prompt: f64, draw: u32): i32 {
  const candidates = base(REGION_CANDIDATES);
  const prefillTime = base(REGION_PREFILL_TIME);
  const pool = prefillMembers;
  const count = prefillCount;
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
  const step = viewStep;
  const threshold = tieThreshold(viewRemote);
  let ties = 0;
  for (let j = 0; j < count; j++) {
    const e = i32At(pool, j);
    const t = f64At(prefillTime, e);
    if (e == d || !(t <= threshold)) continue;
    // linkClass(e, d), inline: first match wins.
    const dom = i32At(domainCol, e);
    const x = dom >= 0 && dom == dDomain
      ? xNvlink
      : i32At(hostCol, e) != dHost
      ? xNetwork
      : i32At(numaCol, e) == dNuma
      ? xPcie
      : xCrossNuma;
    if (t + x + step <= threshold) setI32(candidates, ties++, e);
  }
  if (viewSelf <= threshold) setI32(candidates, ties++, d);
  return i32At(candidates, <i32>(draw % <u32>ties));
}
