/** Writing a routing decision (or a failure) into the result region; twin of assembly/result.ts. */
import { Res, Status } from "../abi.ts";
import type { CoreState } from "../state.ts";
import { prefillModelMs, stepModelMs } from "./model.ts";

export function writeDecision(
  res: Float64Array,
  p: number,
  d: number,
  ttft: number,
  tpot: number,
  uncached: number,
  transfer: number,
  cost: number,
): number {
  res[Res.STATUS] = Status.OK;
  res[Res.PREFILL] = p;
  res[Res.DECODE] = d;
  res[Res.DISAGGREGATED] = p === d ? 0 : 1;
  res[Res.TTFT_MS] = ttft;
  res[Res.TPOT_MS] = tpot;
  res[Res.UNCACHED_TOKENS] = uncached;
  res[Res.TRANSFER_MS] = transfer;
  res[Res.COST_MS] = cost;
  return Status.OK;
}

/**
 * The decision's own TTFT and TPOT before observed factors, for hosts to measure ratios
 * against: prefill of `uncached` tokens on p, plus transfer and one step when p != d.
 */
export function writeModelTimes(
  s: CoreState,
  p: number,
  d: number,
  uncached: number,
  transfer: number,
  reqKv: number,
): void {
  const tpot = stepModelMs(s, d, s.activeKv[d] + reqKv);
  const prefill = prefillModelMs(s, p, uncached);
  s.result[Res.TTFT_MODEL_MS] = p === d ? prefill : prefill + transfer + tpot;
  s.result[Res.TPOT_MODEL_MS] = tpot;
}

export function writeFailure(res: Float64Array, status: number): number {
  res[Res.STATUS] = status;
  res[Res.PREFILL] = -1;
  res[Res.DECODE] = -1;
  res[Res.DISAGGREGATED] = 0;
  res[Res.TTFT_MS] = Infinity;
  res[Res.TPOT_MS] = Infinity;
  res[Res.UNCACHED_TOKENS] = 0;
  res[Res.TRANSFER_MS] = 0;
  res[Res.COST_MS] = Infinity;
  res[Res.TTFT_MODEL_MS] = Infinity;
  res[Res.TPOT_MODEL_MS] = Infinity;
  return status;
}
