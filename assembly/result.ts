// Writing a routing decision (or a failure) into the result region: twin of
// src/core/reference/result.ts.

import {
  RES_COST_MS, RES_DECODE, RES_DISAGGREGATED, RES_PREFILL, RES_STATUS, RES_TPOT_MS,
  RES_TPOT_MODEL_MS, RES_TRANSFER_MS, RES_TTFT_MODEL_MS, RES_TTFT_MS, RES_UNCACHED_TOKENS, STATUS_OK,
} from "./abi";
import { base, REGION_ACTIVE_KV, REGION_ACTIVE_SEQS, REGION_RESULT } from "./layout";
import { prefillModelMs, stepModelMs } from "./model";
import { f64At, setF64 } from "./mem";

export function writeDecision(
  p: i32,
  d: i32,
  ttft: f64,
  tpot: f64,
  uncached: f64,
  transfer: f64,
  cost: f64,
): i32 {
  const res = base(REGION_RESULT);
  setF64(res, RES_STATUS, <f64>STATUS_OK);
  setF64(res, RES_PREFILL, <f64>p);
  setF64(res, RES_DECODE, <f64>d);
  setF64(res, RES_DISAGGREGATED, p == d ? 0 : 1);
  setF64(res, RES_TTFT_MS, ttft);
  setF64(res, RES_TPOT_MS, tpot);
  setF64(res, RES_UNCACHED_TOKENS, uncached);
  setF64(res, RES_TRANSFER_MS, transfer);
  setF64(res, RES_COST_MS, cost);
  return STATUS_OK;
}

/** Twin of writeModelTimes: the decision's TTFT and TPOT before observed factors. */
export function writeModelTimes(p: i32, d: i32, uncached: f64, transfer: f64, reqKv: f64): void {
  const res = base(REGION_RESULT);
  const tpot = stepModelMs(
    d,
    f64At(base(REGION_ACTIVE_KV), d) + reqKv,
    f64At(base(REGION_ACTIVE_SEQS), d) + 1,
  );
  const prefill = prefillModelMs(p, uncached);
  setF64(res, RES_TTFT_MODEL_MS, p == d ? prefill : prefill + transfer + tpot);
  setF64(res, RES_TPOT_MODEL_MS, tpot);
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
  setF64(res, RES_TTFT_MODEL_MS, Infinity);
  setF64(res, RES_TPOT_MODEL_MS, Infinity);
  return status;
}
