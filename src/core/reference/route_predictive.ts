/**
 * The predictive policy's routing decision (docs/POLICY.md, "Routing"), TS reference.
 *
 * Decode first: every decode-capable endpoint d is scored by the latency the request adds to
 * the system there: its own ttft(d) + outputTokens * tpot(d), plus the delay it imposes on the
 * sequences already decoding (a local prefill stalls them; its KV slows their steps). ttft(d)
 * is the better of prefilling locally on d and the best remote prefill endpoint plus the KV
 * transfer to d. Then, if remote won, the prefill endpoint is picked for the chosen d. All
 * scores are in ms.
 */
import { Cfg, Disaggregation, mix32, PREFILL_DRAW_SALT, Req, Res, Status } from "../abi.ts";
import type { CoreState } from "../state.ts";
import { type DecodeView, scoreDecode, scoreDecodeStage } from "./decode_pool.ts";
import { linkClass, prefillTimeMs, transferMs, uncachedTokens } from "./model.ts";
import { pickNearMinimum, tieThreshold } from "./pick.ts";
import { clearGroups, scoreGroups, scorePrefillStage } from "./prefill_pool.ts";
import { clearMatches, matchPrefix } from "./prefix_match.ts";
import { writeDecision, writeFailure, writeModelTimes } from "./result.ts";
import type { Members } from "./sample.ts";

export function routePredictive(s: CoreState, now: number, draw: number): number {
  const touchedCount = matchPrefix(s);
  const status = decide(s, now, draw, touchedCount);
  clearMatches(s, touchedCount);
  return status;
}

/**
 * Whether any decode endpoint may take a remote prefill: never under `never`, and not under
 * `conditional` when the whole prompt is below the local-prefill threshold (uncached <= P).
 */
function needsPrefillPool(cfg: Float64Array, prompt: number): boolean {
  const mode = cfg[Cfg.DISAGGREGATION];
  return mode === Disaggregation.ALWAYS ||
    (mode === Disaggregation.CONDITIONAL && prompt >= cfg[Cfg.LOCAL_PREFILL_MAX_TOKENS]);
}

function decide(s: CoreState, now: number, draw: number, touchedCount: number): number {
  const prompt = s.request[Req.PROMPT_TOKENS];
  const prefillDraw = mix32(draw ^ PREFILL_DRAW_SALT);
  const prefill: Members = { list: s.prefillPool, count: 0 };
  const minAll = needsPrefillPool(s.config, prompt)
    ? scorePrefillStage(s, prefill, prompt, now, prefillDraw, touchedCount)
    : Infinity;
  const groups = minAll < Infinity
    ? scoreGroups(s, prefill.list, prefill.count, prompt, minAll)
    : 0;
  const status = decideWithGroups(s, now, draw, prefillDraw, touchedCount, minAll, prefill);
  clearGroups(s, groups);
  return status;
}

function decideWithGroups(
  s: CoreState,
  now: number,
  draw: number,
  prefillDraw: number,
  touchedCount: number,
  minAll: number,
  prefill: Members,
): number {
  const cfg = s.config;
  const res = s.result;
  const prompt = s.request[Req.PROMPT_TOKENS];
  const output = s.request[Req.OUTPUT_TOKENS];
  const mode = cfg[Cfg.DISAGGREGATION];
  const reqKv = Math.ceil((prompt + output) / cfg[Cfg.KV_BLOCK_TOKENS]);
  const view: DecodeView = {
    step: 0,
    local: 0,
    self: 0,
    remote: 0,
    decodeInterference: 0,
    costLocal: 0,
    costRemote: 0,
    cost: 0,
    useRemote: false,
    batchMean: 0,
  };

  const decode: Members = { list: s.decodePool, count: 0 };
  const best = scoreDecodeStage(s, decode, reqKv, minAll, now, draw, touchedCount, view);
  const d = pickNearMinimum(s.cost, decode.list, decode.count, s.candidates, cfg, best, draw);
  res[Res.REQUEST_KV_BLOCKS] = reqKv;
  if (d < 0) {
    const noPrefill = mode === Disaggregation.ALWAYS && !(minAll < Infinity) &&
      cfg[Cfg.ALLOW_SPILLOVER] === 0;
    return writeFailure(res, noPrefill ? Status.NO_PREFILL_CAPACITY : Status.NO_DECODE_CAPACITY);
  }

  // The mean of the members the stage scored last (the sample, or the pool it fell back to).
  scoreDecode(s, d, reqKv, minAll, now, view, view.batchMean);
  let p = d;
  let transfer = 0;
  if (view.useRemote) {
    p = pickPrefill(s, prefill, d, view, prefillDraw);
    transfer = transferMs(cfg, linkClass(s, p, d), prompt);
  }
  // The reported TTFT is the request's own: the prefill time without the interference term.
  const uncached = uncachedTokens(s, p, prompt);
  const ownPrefill = prefillTimeMs(s, p, uncached, now);
  const ttft = p === d ? ownPrefill : ownPrefill + transfer + view.step;
  writeModelTimes(s, p, d, uncached, transfer, reqKv);
  return writeDecision(res, p, d, ttft, view.step, uncached, transfer, view.cost);
}

/**
 * Picks p for decode endpoint d among the near-minimum of t[p] + transfer(p, d) + step(d) over
 * the prefill stage's members, and self(d) for d itself, listed last. Their minimum is
 * remote(d), exact thanks to the group minima, so one pass lists the candidates; p with t[p]
 * above the threshold is skipped unpriced, since no cost is below its t[p].
 */
function pickPrefill(
  s: CoreState,
  prefill: Members,
  d: number,
  view: DecodeView,
  draw: number,
): number {
  const prompt = s.request[Req.PROMPT_TOKENS];
  const threshold = tieThreshold(s.config, view.remote);
  let ties = 0;
  for (let j = 0; j < prefill.count; j++) {
    const e = prefill.list[j];
    const t = s.prefillTime[e];
    if (e === d || !(t <= threshold)) continue;
    const cost = t + transferMs(s.config, linkClass(s, e, d), prompt) + view.step;
    if (cost <= threshold) s.candidates[ties++] = e;
  }
  if (view.self <= threshold) s.candidates[ties++] = d;
  return s.candidates[(draw >>> 0) % ties];
}
