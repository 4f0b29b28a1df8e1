/**
 * What the live router knows about its engines' load, and how it tells the scoring core.
 *
 * Two sources, kept apart so one never double-counts the other:
 * - own: the router's accounting of its own requests, exact and immediate, changed at dispatch
 *   (prompt tokens queued on the prefill endpoint, one sequence and its KV blocks on the decode
 *   endpoint), at prefill completion (the queued tokens leave) and at finish or failure
 *   (the sequence and its KV leave), as src/sim/sim_router.ts does in the simulator;
 * - external: what the engine reports beyond that (other clients, or work the router thinks
 *   finished), from scraped /metrics: max(0, scraped - own at scrape time). It is trusted only
 *   while the scrape is fresh (`staleAfterMs`); a stale or failed scrape counts as zero.
 *
 * - peers: what the other router replicas account as their own (src/router/sync/), summed;
 *   written by the sync's peer book, and subtracted from scrapes like own load.
 *
 * The core sees own + peers + external. Observed TTFT (per prefill endpoint) and TPOT (per decode
 * endpoint) reach it as ratios, measured on the streams the router relays over what the core
 * predicted for those requests (src/core/observed_ratios.ts), stamped with the router clock so
 * the core ignores them once older than `telemetryMaxAgeMs`.
 *
 * Prefix locality: `prefixes` (src/router/prefix_mirror.ts).
 */
import type { RouteDecision } from "../core/request.ts";
import type { ScoringCore } from "../core/scoring_core.ts";
import { ObservedTimes } from "../core/observed_ratios.ts";
import { stepModelMs } from "../core/reference/model.ts";
import { PrefixMirror } from "./prefix_mirror.ts";

interface Load {
  queued: number;
  seqs: number;
  kv: number;
  /** Requests prefilling here for another endpoint (own only). */
  pre: number;
  /** Of `kv`, the blocks of requests still prefilling elsewhere (own only). */
  pending: number;
  /** Of `seqs`, the requests still prefilling elsewhere (own only). */
  pendingSeqs: number;
}

/** The router's record of one dispatched request. */
export interface Routed {
  readonly decision: RouteDecision;
  /** Where it decodes now (changes when it migrates). */
  decode: number;
  /** The prompt tokens are still counted in the prefill endpoint's queue. */
  prefillPending: boolean;
  /** The sequence and its KV are still counted on `decode`. */
  seqOpen: boolean;
  /** Migration slot in the core while movable, else -1. */
  slot: number;
  /** Router clock at the decision: its TTFT prediction counts from here. */
  readonly decidedAt: number;
  /** The decode endpoint's completed-prefill count at the first token (ObservedTimes). */
  decodeMark: number;
}

export class LoadBook {
  readonly own: Load[];
  readonly external: Load[];
  /** The other replicas' own load (replica sync; all zero without it). */
  readonly peers: Load[];
  /** Called whenever an endpoint's load changed (the replica sync publishes own changes). */
  onChange: ((i: number) => void) | null = null;
  /** Router clock of the last successful scrape per endpoint (-Infinity: never). */
  readonly scrapedAt: number[];
  readonly #observed: ObservedTimes;
  /** The approximate prefix index (src/router/prefix_mirror.ts). */
  readonly prefixes: PrefixMirror;
  #outputSum = 0;
  #outputCount = 0;

  constructor(
    readonly core: ScoringCore,
    count: number,
    prefixCacheBlocks: number,
    ewmaAlpha: number,
    private readonly outputPrior: number,
    private readonly capByMaxTokens = true,
  ) {
    const zero = () =>
      Array.from(
        { length: count },
        (): Load => ({ queued: 0, seqs: 0, kv: 0, pre: 0, pending: 0, pendingSeqs: 0 }),
      );
    this.own = zero();
    this.external = zero();
    this.peers = zero();
    this.scrapedAt = new Array(count).fill(-Infinity);
    this.#observed = new ObservedTimes(core, count, ewmaAlpha);
    this.prefixes = new PrefixMirror(core, count, prefixCacheBlocks);
  }

  /** Output tokens to assume: the running mean of finished requests (capped by max_tokens). */
  outputEstimate(maxTokens: number | null): number {
    const mean = this.#outputCount === 0 ? this.outputPrior : this.#outputSum / this.#outputCount;
    const capped = maxTokens !== null && this.capByMaxTokens ? Math.min(maxTokens, mean) : mean;
    return Math.max(1, Math.round(capped));
  }

  dispatch(decision: RouteDecision, now: number): Routed {
    const { prefill, decode } = decision;
    this.own[prefill].queued += decision.uncachedTokens;
    this.own[decode].seqs += 1;
    this.own[decode].kv += decision.requestKvBlocks;
    if (decision.disaggregated) {
      this.own[prefill].pre += 1;
      this.own[decode].pending += decision.requestKvBlocks;
      this.own[decode].pendingSeqs += 1;
    }
    this.sync(prefill);
    if (decode !== prefill) this.sync(decode);
    return {
      decision,
      decode,
      prefillPending: true,
      seqOpen: true,
      slot: -1,
      decidedAt: now,
      decodeMark: 0,
    };
  }

  /** The prefill finished (prefill answer, or the first token of a local prefill). */
  prefillDone(r: Routed, blocks: readonly number[]): void {
    if (!r.prefillPending) return;
    const p = r.decision.prefill;
    this.#observed.prefillCompleted(p, r.decision.uncachedTokens);
    this.#prefillLeaves(r);
    this.prefixes.record(p, blocks);
    if (r.decode !== p) this.prefixes.record(r.decode, blocks);
  }

  /** The request left its decode endpoint (finished, failed, cancelled or shed). */
  release(r: Routed): void {
    if (r.prefillPending) this.#prefillLeaves(r);
    this.closeSlot(r);
    if (!r.seqOpen) return;
    r.seqOpen = false;
    this.own[r.decode].seqs -= 1;
    this.own[r.decode].kv -= r.decision.requestKvBlocks;
    this.sync(r.decode);
  }

  /** `r`'s prompt left its prefill endpoint's queue; its decode KV is no longer pending. */
  #prefillLeaves(r: Routed): void {
    r.prefillPending = false;
    const { prefill: p, decode: d } = r.decision;
    this.own[p].queued -= r.decision.uncachedTokens;
    if (r.decision.disaggregated) {
      this.own[p].pre -= 1;
      this.own[d].pending -= r.decision.requestKvBlocks;
      this.own[d].pendingSeqs -= 1;
      this.sync(d);
    }
    this.sync(p);
  }

  /** Registers `r` with the migration planner (it may move until its decode starts). */
  openSlot(r: Routed, remainingTokens: number): void {
    if (r.slot >= 0 || !r.seqOpen) return;
    r.slot = this.core.sequences.open(r.decode, r.decision.requestKvBlocks, remainingTokens);
  }

  closeSlot(r: Routed): void {
    if (r.slot < 0) return;
    this.core.sequences.close(r.slot);
    r.slot = -1;
  }

  /** The planner moved `r` from `from` to `to` (the core already moved its counts). */
  moved(r: Routed, from: number, to: number): void {
    const kv = r.decision.requestKvBlocks;
    this.own[from].seqs -= 1;
    this.own[from].kv -= kv;
    this.own[to].seqs += 1;
    this.own[to].kv += kv;
    r.decode = to;
    this.sync(from);
    this.sync(to);
  }

  /** A finished request's measurements. */
  finished(r: Routed, outputTokens: number, tpotMs: number, now: number): void {
    if (outputTokens > 0) {
      this.#outputSum += outputTokens;
      this.#outputCount++;
    }
    // The prediction was for the endpoint the decision chose; a moved request has none.
    const d = r.decode;
    if (outputTokens > 1 && d === r.decision.decode) {
      this.#observed.decodeFinished(
        d,
        tpotMs,
        r.decision.tpotModelMs,
        r.decodeMark,
        outputTokens,
        now,
      );
    }
  }

  /** The first token reached the router at `now` (any wait before the decision excluded). */
  firstToken(r: Routed, now: number): void {
    this.#observed.ttft(r.decision.prefill, now - r.decidedAt, r.decision.ttftModelMs, now);
    r.decodeMark = this.#observed.decodeMark(r.decode);
  }

  /**
   * An engine-side observation (scraped histogram means over all its requests, other clients'
   * too) when the router saw none itself, against the model at the endpoint's current load: a
   * mean prompt behind its prefill queue, and a decode step at its resident KV.
   */
  observeScraped(
    i: number,
    ttftMs: number | null,
    tpotMs: number | null,
    meanPromptTokens: number,
    now: number,
  ): void {
    const s = this.core.state;
    // Its own pairs, not the fleet's ratio the endpoint also holds (src/core/observed_ratios.ts).
    if (ttftMs !== null && !this.#observed.ownFresh("ttft", i, now)) {
      const predicted = (s.queuedPrefill[i] + meanPromptTokens) * s.prefillMsPerToken[i];
      this.#observed.ttft(i, ttftMs, predicted, now);
    }
    if (tpotMs !== null && !this.#observed.ownFresh("tpot", i, now)) {
      const predicted = stepModelMs(s, i, s.activeKv[i], s.activeSeqs[i]);
      this.#observed.tpot(i, tpotMs, predicted, now);
    }
  }

  /** Scraped load: running + waiting requests, KV blocks in use, and waiting requests. */
  scraped(
    i: number,
    seqs: number,
    kvBlocks: number,
    waiting: number,
    meanPromptTokens: number,
    now: number,
  ): void {
    const own = this.own[i];
    const peer = this.peers[i];
    const ext = this.external[i];
    ext.seqs = Math.max(0, seqs - own.seqs - peer.seqs);
    ext.kv = Math.max(0, kvBlocks - own.kv - peer.kv);
    // Waiting requests no replica knows of, at the mean prompt length.
    ext.queued = Math.max(0, waiting - own.seqs - peer.seqs) * meanPromptTokens;
    this.scrapedAt[i] = now;
    this.sync(i);
    // The engine's own counts as scraped, for policies that score with them (llm-d).
    this.core.setLoad(i, {
      waitingRequests: waiting,
      runningRequests: Math.max(0, seqs - waiting),
      kvUsage: kvBlocks / Math.max(1, this.core.state.kvCapacity[i]),
      metricsAtMs: now,
    });
  }

  /** Drops external load whose scrape is older than `staleAfterMs`. */
  dropStale(now: number, staleAfterMs: number): void {
    for (let i = 0; i < this.external.length; i++) {
      const ext = this.external[i];
      if (now - this.scrapedAt[i] <= staleAfterMs) continue;
      if (ext.queued === 0 && ext.seqs === 0 && ext.kv === 0) continue;
      ext.queued = ext.seqs = ext.kv = 0;
      this.sync(i);
    }
  }

  sync(i: number): void {
    const own = this.own[i];
    const ext = this.external[i];
    const peer = this.peers[i];
    // Own counts only go below zero through a bookkeeping bug; never hand those to the core.
    if (
      own.queued < 0 || own.seqs < 0 || own.kv < 0 || own.pre < 0 || own.pending < 0 ||
      own.pendingSeqs < 0
    ) {
      throw new Error(
        `router accounting went negative on endpoint ${i}: ${JSON.stringify(own)}; this is a bug`,
      );
    }
    this.core.setLoad(i, {
      queuedPrefillTokens: own.queued + Math.max(0, peer.queued) + ext.queued,
      activeSeqs: own.seqs + Math.max(0, peer.seqs) + ext.seqs,
      activeKvBlocks: own.kv + Math.max(0, peer.kv) + ext.kv,
      prefillSeqs: own.pre + Math.max(0, peer.pre),
      pendingKvBlocks: own.pending + Math.max(0, peer.pending),
      pendingSeqs: own.pendingSeqs + Math.max(0, peer.pendingSeqs),
      externalSeqs: ext.seqs,
    });
    this.onChange?.(i);
  }
}
