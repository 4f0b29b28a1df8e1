// The round-robin baseline: twin of src/core/reference/route_round_robin.ts.

import {
  CFG_ALLOW_SPILLOVER,
  CFG_COST_MS_PER_DOLLAR_HOUR,
  CFG_DISAGGREGATION,
  CFG_KV_BLOCK_TOKENS,
  CFG_LOCAL_PREFILL_MAX_TOKENS,
  CTR_ENDPOINT_COUNT,
  CTR_RR_DECODE,
  CTR_RR_PREFILL,
  DISAGGREGATION_ALWAYS,
  DISAGGREGATION_CONDITIONAL,
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
  REGION_ACTIVE_KV,
  REGION_ACTIVE_SEQS,
  REGION_CONFIG,
  REGION_COST_PER_HOUR,
  REGION_COUNTERS,
  REGION_HEALTHY,
  REGION_REQUEST,
  REGION_RESULT,
  REGION_ROLE,
} from "./layout";
import { f64At, i32At, setF64, setI32 } from "./mem";
import { linkClass, prefillTimeMs, stepTimeMs, transferMs, uncachedTokens } from "./model";
import { clearMatches, matchPrefix } from "./prefix_match";
import { writeDecision, writeFailure, writeModelTimes } from "./result";

function nextInCycle(n: i32, cursorSlot: i32, roleBit: i32): i32 {
  const counters = base(REGION_COUNTERS);
  const healthy = base(REGION_HEALTHY);
  const role = base(REGION_ROLE);
  const start = n > 0 ? i32At(counters, cursorSlot) % n : 0;
  for (let i = 0; i < n; i++) {
    const e = (start + i) % n;
    if (i32At(healthy, e) != 0 && (i32At(role, e) & roleBit) != 0) {
      setI32(counters, cursorSlot, (e + 1) % n);
      return e;
    }
  }
  return -1;
}

export function routeRoundRobin(now: f64): i32 {
  const touchedCount = matchPrefix();
  const status = decide(now);
  clearMatches(touchedCount);
  return status;
}

function decide(now: f64): i32 {
  const cfg = base(REGION_CONFIG);
  const res = base(REGION_RESULT);
  const n = i32At(base(REGION_COUNTERS), CTR_ENDPOINT_COUNT);
  const prompt = f64At(base(REGION_REQUEST), REQ_PROMPT_TOKENS);
  const output = f64At(base(REGION_REQUEST), REQ_OUTPUT_TOKENS);
  const mode = <i32>f64At(cfg, CFG_DISAGGREGATION);
  const reqKv = Math.ceil((prompt + output) / f64At(cfg, CFG_KV_BLOCK_TOKENS));
  setF64(res, RES_REQUEST_KV_BLOCKS, reqKv);

  const d = nextInCycle(n, CTR_RR_DECODE, ROLE_DECODE);
  if (d < 0) return writeFailure(STATUS_NO_DECODE_CAPACITY);
  let p = d;
  const wantsRemote = mode == DISAGGREGATION_ALWAYS ||
    (mode == DISAGGREGATION_CONDITIONAL &&
      uncachedTokens(d, prompt) >= f64At(cfg, CFG_LOCAL_PREFILL_MAX_TOKENS));
  if (wantsRemote) {
    const candidate = nextInCycle(n, CTR_RR_PREFILL, ROLE_PREFILL);
    if (candidate >= 0) p = candidate;
    else if (mode == DISAGGREGATION_ALWAYS && f64At(cfg, CFG_ALLOW_SPILLOVER) == 0) {
      return writeFailure(STATUS_NO_PREFILL_CAPACITY);
    }
  }
  const step = stepTimeMs(
    d,
    f64At(base(REGION_ACTIVE_KV), d) + reqKv,
    f64At(base(REGION_ACTIVE_SEQS), d) + 1,
    now,
  );
  const uncached = uncachedTokens(p, prompt);
  const transfer = transferMs(linkClass(p, d), prompt);
  const ttft = p == d
    ? prefillTimeMs(p, uncached, now)
    : prefillTimeMs(p, uncached, now) + transfer + step;
  writeModelTimes(p, d, uncached, transfer, reqKv);
  return writeDecision(p, d, ttft, step, uncached, transfer, ttft + output * step +
      f64At(base(REGION_COST_PER_HOUR), d) * f64At(cfg, CFG_COST_MS_PER_DOLLAR_HOUR));
}
