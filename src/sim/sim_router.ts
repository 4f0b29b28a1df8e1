/**
 * The router inside the simulation: the scoring core plus exactly what a real router knows.
 * It accounts load itself at dispatch, prefill completion and finish (DESIGN-NOTES §4), learns
 * how measured TTFT and TPOT compare with the core's predictions from the responses it relays
 * (smoothed ratios per endpoint, src/core/observed_ratios.ts), estimates output length
 * from completed requests, and mirrors the engines' prefix caches from KV events. It never
 * reads an engine's internal queue or KV state directly.
 */
import type { PolicyConfigInput } from "../core/config.ts";
import { newDecision, type RouteDecision } from "../core/request.ts";
import type { Migration, ScoringCore } from "../core/scoring_core.ts";
import { ObservedTimes } from "../core/observed_ratios.ts";
import { createCore } from "../wasm/wasm_core.ts";
import type { SimConfig } from "./config.ts";
import { endpointSpec, type Fleet } from "./fleet.ts";
import type { Rng } from "../workload/rng.ts";
import type { SimRequest } from "../workload/request.ts";

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

  constructor(
    readonly config: SimConfig,
    readonly fleet: Fleet,
    policy: PolicyConfigInput,
    private readonly rng: Rng,
  ) {
    const n = fleet.members.length;
    const capacity = {
      endpoints: Math.max(1, n),
      sequences: Math.min(1 << 21, Math.max(1024, n * fleet.engine.maxNumSeqs * 2)),
      prefixEntries: Math.min(1 << 23, Math.max(1024, n * fleet.engine.prefixCacheBlocks + 1024)),
      requestBlocks: 512,
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

  /** Decides for `req` and accounts the dispatch; null when no endpoint has capacity. */
  route(req: SimRequest, now: number): Routed | null {
    const blocks = req.prefixBlocks.length > 512
      ? req.prefixBlocks.slice(0, 512)
      : req.prefixBlocks;
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
    this.core.addLoad(decision.decode, 0, 1, decision.requestKvBlocks, 0, pending);
    return {
      decision,
      decodeEndpoint: decision.decode,
      slot: -1,
      prefillAccounted: true,
      decidedAt: now,
      decodeMark: 0,
    };
  }

  /** The prefill finished (the router sees the prefill response or the first token). */
  prefillDone(r: Routed): void {
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
      this.core.addLoad(r.decodeEndpoint, 0, 0, 0, 0, -r.decision.requestKvBlocks);
    }
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
    this.prefillDone(r);
    this.#outputSum += outputTokens;
    this.#outputCount++;
    const d = r.decodeEndpoint;
    const s = this.core.state;
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
    // Release what dispatch added; the router's own counts can't go negative unless a bug.
    this.core.setLoad(d, {
      activeSeqs: Math.max(0, s.activeSeqs[d] - 1),
      activeKvBlocks: Math.max(0, s.activeKv[d] - r.decision.requestKvBlocks),
    });
    this.closeSlot(r);
  }

  /** A request that never reached decoding (shed or rejected after dispatch). */
  abandoned(r: Routed): void {
    this.prefillDone(r);
    const d = r.decodeEndpoint;
    const s = this.core.state;
    this.core.setLoad(d, {
      activeSeqs: Math.max(0, s.activeSeqs[d] - 1),
      activeKvBlocks: Math.max(0, s.activeKv[d] - r.decision.requestKvBlocks),
    });
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

  planMigrations(now: number): Migration[] {
    return this.core.planMigrations(now, this.rng.u32());
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
