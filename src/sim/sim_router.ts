/**
 * The router inside the simulation: the scoring core plus exactly what a real router knows.
 * It accounts load itself at dispatch, prefill completion and finish (DESIGN-NOTES §4), learns
 * how measured TTFT and TPOT compare with the core's predictions from the responses it relays
 * (smoothed ratios per endpoint, src/core/observed_ratios.ts), estimates output length
 * from completed requests, and knows the engines' prefix caches as `router.prefixKnowledge`
 * says (src/sim/prefix_knowledge.ts): from their KV events (precise) or from a mirror of what
 * it routed (approximate). It never reads an engine's internal queue or KV state directly.
 *
 * One of several replicas (src/sim/router_set.ts), it reports each change of its own
 * accounting and mirror to a `ReplicaSink`, and applies the others' as they arrive.
 */
import type { PolicyConfigInput } from "../core/config.ts";
import { newDecision, type RouteDecision } from "../core/request.ts";
import type { Migration, ScoringCore } from "../core/scoring_core.ts";
import { ObservedTimes } from "../core/observed_ratios.ts";
import { createCore } from "../wasm/wasm_core.ts";
import { prefixCacheBound } from "../engine_model/prefix_pool.ts";
import type { SimConfig } from "./config.ts";
import { endpointSpec, type Fleet } from "./fleet.ts";
import type { Rng } from "../workload/rng.ts";
import type { SimRequest } from "../workload/request.ts";
import {
  mirrorCapacityBlocks,
  PrefixMirror,
  requestBlockCapacity,
  routerBlocks,
} from "./prefix_knowledge.ts";

/** Where a replica's own changes go, for the other replicas (none with one router). */
export interface ReplicaSink {
  /**
   * A change of this replica's own load accounting on endpoint `e` (deltas): queued prefill
   * tokens, sequences, KV blocks, prefilling requests, pending KV blocks and pending sequences.
   */
  load(
    e: number,
    queued: number,
    seqs: number,
    kv: number,
    pre: number,
    pending: number,
    pendingSeqs: number,
  ): void;
  /** The approximate mirror recorded `blocks` on endpoint `e`. */
  prefix(e: number, blocks: readonly number[]): void;
}

/** The router's view of one routed request. */
export interface Routed {
  readonly decision: RouteDecision;
  /** Where the request decodes now (changes when it migrates). */
  decodeEndpoint: number;
  /** Migration slot while decoding, else -1. */
  slot: number;
  prefillAccounted: boolean;
  /** Simulated time of the decision: its TTFT prediction counts from here. */
  readonly decidedAt: number;
  /** The decode endpoint's completed-prefill count at the first token (ObservedTimes). */
  decodeMark: number;
  /** The prefix blocks the decision matched (recorded by the approximate mirror). */
  readonly blocks: readonly number[];
}

export class SimRouter {
  readonly core: ScoringCore;
  #outputSum = 0;
  #outputCount = 0;
  readonly #observed: ObservedTimes;
  /** Migration slot -> request id. */
  readonly slots = new Map<number, number>();
  /** Where the next decision is written: a refusal reuses it, a routed request keeps it. */
  #spare = newDecision();
  readonly #blockCap: number;
  /** The approximate knowledge's mirror (null with precise knowledge). */
  readonly mirror: PrefixMirror | null;

  constructor(
    readonly config: SimConfig,
    readonly fleet: Fleet,
    policy: PolicyConfigInput,
    private readonly rng: Rng,
    private readonly sink: ReplicaSink | null = null,
  ) {
    const n = fleet.members.length;
    this.#blockCap = requestBlockCapacity(config);
    this.mirror = config.router.prefixKnowledge === "approximate"
      ? new PrefixMirror(n, mirrorCapacityBlocks(config, fleet.engine.gpuKvTokens))
      : null;
    const capacity = {
      endpoints: Math.max(1, n),
      sequences: Math.min(1 << 21, Math.max(1024, n * fleet.engine.maxNumSeqs * 2)),
      prefixEntries: Math.min(1 << 23, Math.max(1024, n * prefixCacheBound(fleet.engine) + 1024)),
      requestBlocks: this.#blockCap,
      hosts: 64,
      numaPerHost: 8,
      domains: 64,
      moves: 64,
      migrationBudget: 4096,
    };
    this.core = createCore({
      implementation: config.router.implementation,
      policy,
      capacity,
      endpoints: fleet.members.map((m) => endpointSpec(fleet, m)),
    });
    this.#observed = new ObservedTimes(this.core, n, config.router.ewmaAlpha);
  }

  /** The output length the router assumes for `req` (it does not know the truth). */
  outputEstimate(req: SimRequest): number {
    if (this.config.router.outputEstimate === "oracle") return req.outputTokens;
    return this.#outputCount === 0
      ? this.config.router.outputPriorTokens
      : this.#outputSum / this.#outputCount;
  }

  /**
   * Decides for `req` and accounts the dispatch; null when no endpoint has capacity.
   * `atEngine`: its prefix blocks at the engines' block size (src/sim/prefix_knowledge.ts).
   */
  route(req: SimRequest, now: number, atEngine = req.prefixBlocks): Routed | null {
    const knowledge = this.config.router.prefixKnowledge;
    const blocks = routerBlocks(knowledge, req, atEngine, this.#blockCap);
    const decision = this.core.route(
      {
        promptTokens: req.promptTokens,
        outputTokens: Math.round(this.outputEstimate(req)),
        prefixBlocks: blocks,
      },
      now,
      this.rng.u32(),
      this.#spare,
    );
    if (decision.status !== "ok") return null;
    this.#spare = newDecision();
    this.core.addLoad(decision.prefill, decision.uncachedTokens, 0, 0, +decision.disaggregated);
    const pending = decision.disaggregated ? decision.requestKvBlocks : 0;
    const pendingSeqs = +decision.disaggregated;
    this.core.addLoad(decision.decode, 0, 1, decision.requestKvBlocks, 0, pending, pendingSeqs);
    if (this.sink) {
      const pre = +decision.disaggregated;
      this.sink.load(decision.prefill, decision.uncachedTokens, 0, 0, pre, 0, 0);
      this.sink.load(decision.decode, 0, 1, decision.requestKvBlocks, 0, pending, pendingSeqs);
    }
    return {
      decision,
      decodeEndpoint: decision.decode,
      slot: -1,
      prefillAccounted: true,
      decidedAt: now,
      decodeMark: 0,
      blocks,
    };
  }

  /** The prefill finished (the router sees the prefill response or the first token). */
  prefillDone(r: Routed): void {
    if (r.prefillAccounted && this.mirror) {
      this.#record(r.decision.prefill, r.blocks);
      if (r.decodeEndpoint !== r.decision.prefill) this.#record(r.decodeEndpoint, r.blocks);
    }
    this.#releasePrefill(r);
  }

  #record(e: number, blocks: readonly number[]): void {
    this.mirror!.record(this.core, e, blocks);
    this.sink?.prefix(e, blocks);
  }

  /** The prompt leaves the prefill endpoint's queue (computed, or abandoned). */
  #releasePrefill(r: Routed): void {
    if (!r.prefillAccounted) return;
    r.prefillAccounted = false;
    this.#observed.prefillCompleted(r.decision.prefill, r.decision.uncachedTokens);
    this.core.addLoad(
      r.decision.prefill,
      -r.decision.uncachedTokens,
      0,
      0,
      -r.decision.disaggregated,
    );
    if (r.decision.disaggregated) {
      this.core.addLoad(r.decodeEndpoint, 0, 0, 0, 0, -r.decision.requestKvBlocks, -1);
    }
    if (this.sink) {
      const pre = -r.decision.disaggregated;
      this.sink.load(r.decision.prefill, -r.decision.uncachedTokens, 0, 0, pre, 0, 0);
      if (r.decision.disaggregated) {
        this.sink.load(r.decodeEndpoint, 0, 0, 0, 0, -r.decision.requestKvBlocks, -1);
      }
    }
  }

  /** Another replica's change of its own accounting reached this one. */
  remoteLoad(...[e, queued, seqs, kv, pre, pending, pendingSeqs]: Parameters<ReplicaSink["load"]>) {
    const s = this.core.state;
    this.core.setLoad(e, {
      queuedPrefillTokens: Math.max(0, s.queuedPrefill[e] + queued),
      activeSeqs: Math.max(0, s.activeSeqs[e] + seqs),
      activeKvBlocks: Math.max(0, s.activeKv[e] + kv),
      prefillSeqs: Math.max(0, s.prefillSeqs[e] + pre),
      pendingKvBlocks: Math.max(0, s.pendingKv[e] + pending),
      pendingSeqs: Math.max(0, s.pendingSeqs[e] + pendingSeqs),
    });
  }

  /** Another replica's approximate mirror recorded `blocks` on `e`: this one records them too. */
  remotePrefix(e: number, blocks: readonly number[]): void {
    this.mirror?.record(this.core, e, blocks);
  }

  /** Releases one sequence's seat and KV on its decode endpoint. */
  #releaseSeq(r: Routed): void {
    const d = r.decodeEndpoint;
    const s = this.core.state;
    // Release what dispatch added; the router's own counts can't go negative unless a bug.
    this.core.setLoad(d, {
      activeSeqs: Math.max(0, s.activeSeqs[d] - 1),
      activeKvBlocks: Math.max(0, s.activeKv[d] - r.decision.requestKvBlocks),
    });
    this.sink?.load(d, 0, -1, -r.decision.requestKvBlocks, 0, 0, 0);
  }

  /** The first token streamed: the request now decodes and may be migrated. */
  firstToken(
    r: Routed,
    requestId: number,
    now: number,
    remainingTokens: number,
  ): void {
    this.prefillDone(r);
    // Measured from the decision, as predicted: a wait in the admission queue is not the engine's.
    this.#observed.ttft(r.decision.prefill, now - r.decidedAt, r.decision.ttftModelMs, now);
    r.decodeMark = this.#observed.decodeMark(r.decodeEndpoint);
    // Only sequences the planner may move need a slot.
    if (this.core.migrates) {
      r.slot = this.core.sequences.open(
        r.decodeEndpoint,
        r.decision.requestKvBlocks,
        remainingTokens,
      );
      this.slots.set(r.slot, requestId);
    }
  }

  finished(r: Routed, outputTokens: number, tpotMs: number, now: number): void {
    this.#releasePrefill(r);
    this.#outputSum += outputTokens;
    this.#outputCount++;
    const d = r.decodeEndpoint;
    // The prediction was for the endpoint the decision chose; a moved request has none.
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
    this.#releaseSeq(r);
    this.closeSlot(r);
  }

  /** A request that never reached decoding (shed or rejected after dispatch). */
  abandoned(r: Routed): void {
    this.#releasePrefill(r);
    this.#releaseSeq(r);
    this.closeSlot(r);
  }

  closeSlot(r: Routed): void {
    if (r.slot < 0) return;
    this.core.sequences.close(r.slot);
    this.slots.delete(r.slot);
    r.slot = -1;
  }

  /** Refreshes a decoding request's expected remaining tokens before a plan. */
  updateRemaining(r: Routed, remainingTokens: number): void {
    if (r.slot >= 0) {
      this.core.sequences.update(r.slot, r.decision.requestKvBlocks, remainingTokens);
    }
  }

  /** Plans moves of this replica's sequences (the core has already accounted them). */
  planMigrations(now: number): Migration[] {
    const moves = this.core.planMigrations(now, this.rng.u32());
    if (this.sink) {
      for (const m of moves) {
        this.sink.load(m.from, 0, -1, -m.kvBlocks, 0, 0, 0);
        this.sink.load(m.to, 0, 1, m.kvBlocks, 0, 0, 0);
      }
    }
    return moves;
  }

  /** A planned move could not happen (the sequence was not running): undo its accounting. */
  undoMove(r: Routed, m: Migration, remainingTokens: number, requestId: number): void {
    const kv = r.decision.requestKvBlocks;
    const s = this.core.state;
    this.core.setLoad(m.to, {
      activeSeqs: Math.max(0, s.activeSeqs[m.to] - 1),
      activeKvBlocks: Math.max(0, s.activeKv[m.to] - kv),
    });
    this.core.addLoad(m.from, 0, 1, kv);
    this.sink?.load(m.to, 0, -1, -kv, 0, 0, 0);
    this.sink?.load(m.from, 0, 1, kv, 0, 0, 0);
    this.closeSlot(r);
    r.slot = this.core.sequences.open(m.from, kv, remainingTokens);
    this.slots.set(r.slot, requestId);
  }

  /** A scrape of every engine's own metrics (for policies that read them). */
  scraped(endpoint: number, waiting: number, running: number, kvUsage: number, now: number): void {
    this.core.setLoad(endpoint, {
      waitingRequests: waiting,
      runningRequests: running,
      kvUsage,
      metricsAtMs: now,
    });
  }

  prefixChanged(endpoint: number, added: readonly number[], evicted: readonly number[]): void {
    if (evicted.length > 0) this.core.removePrefixBlocks(endpoint, evicted);
    if (added.length > 0) this.core.addPrefixBlocks(endpoint, added);
  }
}
