/**
 * The decode stage's per-endpoint score (docs/POLICY.md, "Routing", step 2), TS reference:
 * decode step, local and remote TTFT, and the request's predicted latency on d.
 */
import { Cfg, Disaggregation, Req, Role } from "../abi.ts";
import type { CoreState } from "../state.ts";
import { fitsKv, pmin, prefillTimeMs, stepTimeMs, uncachedTokens } from "./model.ts";
import { prefillEligible, remoteTtft } from "./prefill_pool.ts";

export function decodeEligible(s: CoreState, e: number, reqKv: number): boolean {
  return s.healthy[e] !== 0 && (s.role[e] & Role.DECODE) !== 0 && fitsKv(s, e, reqKv);
}

export interface DecodeView {
  step: number;
  local: number;
  /** local(d) if d may prefill for itself, else +Infinity. */
  self: number;
  remote: number;
  ttft: number;
}

/** Scores decode endpoint d into `out` (reused, so nothing is allocated per endpoint). */
export function scoreDecode(
  s: CoreState,
  d: number,
  reqKv: number,
  minAll: number,
  now: number,
  out: DecodeView,
): void {
  const cfg = s.config;
  const prompt = s.request[Req.PROMPT_TOKENS];
  const mode = cfg[Cfg.DISAGGREGATION];
  const anyPrefill = minAll < Infinity;
  const step = stepTimeMs(s, d, s.activeKv[d] + reqKv, now);
  const u = uncachedTokens(s, d, prompt);
  const local = prefillTimeMs(s, d, u, now);
  const considerRemote = mode === Disaggregation.ALWAYS
    ? anyPrefill
    : mode === Disaggregation.CONDITIONAL && anyPrefill && u >= cfg[Cfg.LOCAL_PREFILL_MAX_TOKENS];
  const self = prefillEligible(s, d) ? local : Infinity;
  const remote = considerRemote ? remoteTtft(s, d, step, minAll, prompt, self) : Infinity;
  let ttft: number;
  if (mode === Disaggregation.ALWAYS) {
    ttft = anyPrefill ? remote : (cfg[Cfg.ALLOW_SPILLOVER] !== 0 ? local : Infinity);
  } else {
    ttft = pmin(local, remote);
  }
  out.step = step;
  out.local = local;
  out.self = self;
  out.remote = remote;
  out.ttft = ttft;
}

/** The request's predicted latency on d: TTFT, then its output tokens, plus d's price. */
export function decodeCost(s: CoreState, d: number, view: DecodeView): number {
  const output = s.request[Req.OUTPUT_TOKENS];
  return view.ttft + output * view.step + s.costPerHour[d] * s.config[Cfg.COST_MS_PER_DOLLAR_HOUR];
}
