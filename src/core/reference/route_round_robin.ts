/**
 * The round-robin baseline, in the same interface as the predictive policy: it takes the next
 * healthy endpoint of the right pool in cyclic order and ignores load and locality. It follows
 * the same disaggregation mode (under `conditional` it uses the static local-prefill rule).
 * The result's predicted times come from the same model, for reporting only.
 */
import { Cfg, Ctr, Disaggregation, Req, Res, Role, Status } from "../abi.ts";
import type { CoreState } from "../state.ts";
import { uncachedTokens } from "./model.ts";
import { clearMatches, matchPrefix } from "./prefix_match.ts";
import { writeFailure, writeReportedDecision } from "./result.ts";

/** Next healthy endpoint with `roleBit` at or after the cursor; advances the cursor past it. */
function nextInCycle(s: CoreState, n: number, cursorSlot: number, roleBit: number): number {
  const start = n > 0 ? s.counters[cursorSlot] % n : 0;
  for (let i = 0; i < n; i++) {
    const e = (start + i) % n;
    if (s.healthy[e] !== 0 && (s.role[e] & roleBit) !== 0) {
      s.counters[cursorSlot] = (e + 1) % n;
      return e;
    }
  }
  return -1;
}

export function routeRoundRobin(s: CoreState, now: number): number {
  const touchedCount = matchPrefix(s);
  const status = decide(s, now);
  clearMatches(s, touchedCount);
  return status;
}

function decide(s: CoreState, now: number): number {
  const cfg = s.config;
  const res = s.result;
  const n = s.counters[Ctr.ENDPOINT_COUNT];
  const prompt = s.request[Req.PROMPT_TOKENS];
  const output = s.request[Req.OUTPUT_TOKENS];
  const mode = cfg[Cfg.DISAGGREGATION];
  const reqKv = Math.ceil((prompt + output) / cfg[Cfg.KV_BLOCK_TOKENS]);
  res[Res.REQUEST_KV_BLOCKS] = reqKv;

  const d = nextInCycle(s, n, Ctr.RR_DECODE, Role.DECODE);
  if (d < 0) return writeFailure(res, Status.NO_DECODE_CAPACITY);
  let p = d;
  const wantsRemote = mode === Disaggregation.ALWAYS ||
    (mode === Disaggregation.CONDITIONAL &&
      uncachedTokens(s, d, prompt) >= cfg[Cfg.LOCAL_PREFILL_MAX_TOKENS]);
  if (wantsRemote) {
    const candidate = nextInCycle(s, n, Ctr.RR_PREFILL, Role.PREFILL);
    if (candidate >= 0) p = candidate;
    else if (mode === Disaggregation.ALWAYS && cfg[Cfg.ALLOW_SPILLOVER] === 0) {
      return writeFailure(res, Status.NO_PREFILL_CAPACITY);
    }
  }
  return writeReportedDecision(s, p, d, now);
}
