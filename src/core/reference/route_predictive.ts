/**
 * The predictive policy's routing decision (docs/POLICY.md, "Routing"), TS reference.
 *
 * Decode first: every decode-capable endpoint d is scored by the request's predicted latency
 * there, ttft(d) + outputTokens * tpot(d), where ttft(d) is the better of prefilling locally
 * on d and the best remote prefill endpoint plus the KV transfer to d. Then, if remote won,
 * the prefill endpoint is picked for the chosen d. All scores are in ms.
 */
import {
  Cfg,
  Ctr,
  Disaggregation,
  LinkClass,
  mix32,
  PREFILL_DRAW_SALT,
  Req,
  Res,
  Role,
  Status,
} from "../abi.ts";
import type { CoreState } from "../state.ts";
import {
  fitsKv,
  linkClass,
  prefillTimeMs,
  stepTimeMs,
  transferMs,
  uncachedTokens,
} from "./model.ts";
import { pickNearMinimum } from "./pick.ts";
import { clearMatches, matchPrefix } from "./prefix_match.ts";

function prefillEligible(s: CoreState, e: number): boolean {
  return s.healthy[e] !== 0 && (s.role[e] & Role.PREFILL) !== 0 &&
    s.queuedPrefill[e] <= s.config[Cfg.PREFILL_QUEUE_LIMIT_TOKENS];
}

function decodeEligible(s: CoreState, e: number, reqKv: number): boolean {
  return s.healthy[e] !== 0 && (s.role[e] & Role.DECODE) !== 0 && fitsKv(s, e, reqKv);
}

/**
 * Fills `prefillTime[p]` (+Infinity when p cannot prefill) and the group minima that make
 * "best remote prefill for d" an O(1) lookup: per NVLink domain, per (host, NUMA node), per
 * host. Returns the global minimum.
 */
function scorePrefillPool(s: CoreState, n: number, prompt: number, now: number): number {
  const domains = s.limits.domains;
  const numaPerHost = s.limits.numaPerHost;
  const hostBase = domains + s.limits.hosts * numaPerHost;
  const gm = s.groupMin;
  for (let e = 0; e < n; e++) {
    if (s.domain[e] >= 0) gm[s.domain[e]] = Infinity;
    gm[domains + s.host[e] * numaPerHost + s.numa[e]] = Infinity;
    gm[hostBase + s.host[e]] = Infinity;
  }
  let minAll = Infinity;
  for (let e = 0; e < n; e++) {
    if (!prefillEligible(s, e)) {
      s.prefillTime[e] = Infinity;
      continue;
    }
    const t = prefillTimeMs(s, e, uncachedTokens(s, e, prompt), now);
    s.prefillTime[e] = t;
    if (t < minAll) minAll = t;
    const dom = s.domain[e];
    if (dom >= 0 && t < gm[dom]) gm[dom] = t;
    const hn = domains + s.host[e] * numaPerHost + s.numa[e];
    if (t < gm[hn]) gm[hn] = t;
    const h = hostBase + s.host[e];
    if (t < gm[h]) gm[h] = t;
  }
  return minAll;
}

/** Best TTFT for decode endpoint d via a remote (or its own) prefill; exact, via group minima. */
function remoteTtft(s: CoreState, d: number, step: number, minAll: number, prompt: number): number {
  const cfg = s.config;
  const domains = s.limits.domains;
  const numaPerHost = s.limits.numaPerHost;
  const gm = s.groupMin;
  let r = minAll + transferMs(cfg, LinkClass.NETWORK, prompt);
  const dom = s.domain[d];
  if (dom >= 0) r = Math.min(r, gm[dom] + transferMs(cfg, LinkClass.NVLINK, prompt));
  r = Math.min(
    r,
    gm[domains + s.host[d] * numaPerHost + s.numa[d]] + transferMs(cfg, LinkClass.PCIE, prompt),
  );
  r = Math.min(
    r,
    gm[domains + s.limits.hosts * numaPerHost + s.host[d]] +
      transferMs(cfg, LinkClass.CROSS_NUMA, prompt),
  );
  r = r + step;
  // Prefill on d itself: no transfer, and the first token comes out of the prefill.
  return Math.min(r, s.prefillTime[d]);
}

interface DecodeView {
  step: number;
  local: number;
  remote: number;
  ttft: number;
}

/** Scores decode endpoint d; `out` avoids allocating per endpoint. */
function scoreDecode(
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
  const remote = considerRemote ? remoteTtft(s, d, step, minAll, prompt) : Infinity;
  let ttft: number;
  if (mode === Disaggregation.ALWAYS) {
    ttft = anyPrefill ? remote : (cfg[Cfg.ALLOW_SPILLOVER] !== 0 ? local : Infinity);
  } else {
    ttft = Math.min(local, remote);
  }
  out.step = step;
  out.local = local;
  out.remote = remote;
  out.ttft = ttft;
}

export function routePredictive(s: CoreState, now: number, draw: number): number {
  const touchedCount = matchPrefix(s);
  const status = decide(s, now, draw);
  clearMatches(s, touchedCount);
  return status;
}

function decide(s: CoreState, now: number, draw: number): number {
  const cfg = s.config;
  const res = s.result;
  const n = s.counters[Ctr.ENDPOINT_COUNT];
  const prompt = s.request[Req.PROMPT_TOKENS];
  const output = s.request[Req.OUTPUT_TOKENS];
  const mode = cfg[Cfg.DISAGGREGATION];
  const reqKv = Math.ceil((prompt + output) / cfg[Cfg.KV_BLOCK_TOKENS]);
  const costWeight = cfg[Cfg.COST_MS_PER_DOLLAR_HOUR];
  const minAll = mode === Disaggregation.NEVER ? Infinity : scorePrefillPool(s, n, prompt, now);
  const view: DecodeView = { step: 0, local: 0, remote: 0, ttft: 0 };

  let best = Infinity;
  for (let d = 0; d < n; d++) {
    if (!decodeEligible(s, d, reqKv)) {
      s.cost[d] = Infinity;
      continue;
    }
    scoreDecode(s, d, reqKv, minAll, now, view);
    const cost = view.ttft + output * view.step + s.costPerHour[d] * costWeight;
    s.cost[d] = cost;
    if (cost < best) best = cost;
  }
  const d = pickNearMinimum(s.cost, n, s.candidates, cfg, best, draw);
  res[Res.REQUEST_KV_BLOCKS] = reqKv;
  if (d < 0) {
    const noPrefill = mode === Disaggregation.ALWAYS && !(minAll < Infinity) &&
      cfg[Cfg.ALLOW_SPILLOVER] === 0;
    return writeFailure(res, noPrefill ? Status.NO_PREFILL_CAPACITY : Status.NO_DECODE_CAPACITY);
  }

  scoreDecode(s, d, reqKv, minAll, now, view);
  const useRemote = mode === Disaggregation.ALWAYS ? minAll < Infinity : view.remote < view.local;
  let p = d;
  let ttft = view.local;
  let transfer = 0;
  if (useRemote) {
    for (let e = 0; e < n; e++) {
      const t = s.prefillTime[e];
      s.cost[e] = t === Infinity || e === d
        ? t
        : t + transferMs(cfg, linkClass(s, e, d), prompt) + view.step;
    }
    // remote(d) is exactly the least of these costs: the group minima are exact (POLICY.md).
    p = pickNearMinimum(s.cost, n, s.candidates, cfg, view.remote, mix32(draw ^ PREFILL_DRAW_SALT));
    ttft = s.cost[p];
    transfer = transferMs(cfg, linkClass(s, p, d), prompt);
  }
  res[Res.STATUS] = Status.OK;
  res[Res.PREFILL] = p;
  res[Res.DECODE] = d;
  res[Res.DISAGGREGATED] = p === d ? 0 : 1;
  res[Res.TTFT_MS] = ttft;
  res[Res.TPOT_MS] = view.step;
  res[Res.UNCACHED_TOKENS] = uncachedTokens(s, p, prompt);
  res[Res.TRANSFER_MS] = transfer;
  res[Res.COST_MS] = ttft + output * view.step + s.costPerHour[d] * costWeight;
  return Status.OK;
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
  return status;
}
