/** Writing a routing decision (or a failure) into the result region; twin of assembly/result.ts. */
import { Cfg, Req, Res, Status } from "../abi.ts";
import type { CoreState } from "../state.ts";
import {
  linkClass,
  prefillModelMs,
  prefillTimeMs,
  stepModelMs,
  stepTimeMs,
  transferMs,
  uncachedTokens,
} from "./model.ts";

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
  const tpot = stepModelMs(s, d, s.activeKv[d] + reqKv, s.activeSeqs[d] + 1);
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

/**
 * Writes the decision (p, d) of a policy that does not decide by the time model (round robin,
 * the peers) with the times that model predicts for it, for reporting and for the hosts'
 * observed/predicted ratios: the request's own TTFT and TPOT, and as its cost its own latency
 * (TTFT + output x TPOT + price). `reqKv` is already in the result region.
 */
export function writeReportedDecision(s: CoreState, p: number, d: number, now: number): number {
  const cfg = s.config;
  const res = s.result;
  const prompt = s.request[Req.PROMPT_TOKENS];
  const output = s.request[Req.OUTPUT_TOKENS];
  const reqKv = res[Res.REQUEST_KV_BLOCKS];
  const step = stepTimeMs(s, d, s.activeKv[d] + reqKv, s.activeSeqs[d] + 1, now);
  const uncached = uncachedTokens(s, p, prompt);
  const transfer = transferMs(cfg, linkClass(s, p, d), prompt);
  const ttft = p === d
    ? prefillTimeMs(s, p, uncached, now)
    : prefillTimeMs(s, p, uncached, now) + transfer + step;
  const cost = ttft + output * step + s.costPerHour[d] * cfg[Cfg.COST_MS_PER_DOLLAR_HOUR];
  writeModelTimes(s, p, d, uncached, transfer, reqKv);
  return writeDecision(res, p, d, ttft, step, uncached, transfer, cost);
}
