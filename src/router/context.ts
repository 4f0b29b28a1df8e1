/**
 * What every stage of the router shares (`RouterContext`: configuration, engines, core,
 * accounting, metrics, the wait queue and the requests in flight), and the per-flight
 * bookkeeping every stage uses when a request leaves an engine or the router.
 */
import type { RouteDecision } from "../core/request.ts";
import type { ScoringCore } from "../core/scoring_core.ts";
import type { Rng } from "../workload/rng.ts";
import type { RouterConfig } from "./config.ts";
import type { Endpoint } from "./endpoint.ts";
import type { Flight } from "./flight.ts";
import type { Health } from "./health.ts";
import type { KvPrecise } from "./kv_precise.ts";
import type { LoadBook } from "./load_book.ts";
import type { Outcome, RouterMetrics } from "./router_metrics.ts";
import type { ReplicaSync } from "./sync/replica_sync.ts";
import type { Scraper } from "./telemetry.ts";
import type { WaitQueue } from "./wait_queue.ts";

/** Most prefix blocks one request passes to the core (its request-block capacity). */
export const MAX_REQUEST_BLOCKS = 512;

/** The models the engines serve, as the router last heard them. */
export interface ModelBook {
  /** Model names (empty until an engine answered /v1/models). */
  ids: Set<string>;
  /** Per model id, the largest `max_model_len` an engine reported (absent: none did). */
  maxModelLen: Map<string, number>;
}

/** Prompt sizes seen so far (the scraper's mean prompt for unattributed queue tokens). */
export interface PromptStats {
  sum: number;
  count: number;
}

export interface RouterContext {
  readonly config: RouterConfig;
  readonly endpoints: Endpoint[];
  readonly core: ScoringCore;
  readonly book: LoadBook;
  readonly metrics: RouterMetrics;
  readonly health: Health;
  readonly scraper: Scraper;
  /** Replica sync over NATS (null: this router routes on its own state alone). */
  readonly sync: ReplicaSync | null;
  /** Precise KV awareness (null without a tokenizer: approximate prefixes only). */
  readonly kv: KvPrecise | null;
  readonly rng: Rng;
  readonly queue: WaitQueue;
  /** Movable decode requests by their core migration slot. */
  readonly movable: Map<number, Flight>;
  readonly flights: Set<Flight>;
  /** Aborts on shutdown. */
  readonly stop: AbortSignal;
  readonly models: ModelBook;
  readonly prompts: PromptStats;
  /** Where the next decision is written: a refusal reuses it, a routed request keeps it. */
  spare: RouteDecision;
  /** Router clock, ms since start (the core's `now`). */
  now(): number;
}

/** Capacity may have freed: waiters that fit now are placed. */
export function wakeQueue(ctx: RouterContext): void {
  ctx.queue.admit();
}

/** `f` no longer holds anything on its engines. */
export function release(ctx: RouterContext, f: Flight): void {
  if (!f.routed) return;
  if (f.routed.slot >= 0) ctx.movable.delete(f.routed.slot);
  ctx.book.release(f.routed);
  wakeQueue(ctx);
}

/** `f` has left the router. */
export function finishFlight(ctx: RouterContext, f: Flight): void {
  if (f.routed) release(ctx, f);
  ctx.flights.delete(f);
}

export function count(ctx: RouterContext, e: Endpoint | null, outcome: Outcome): void {
  ctx.metrics.requests.inc({ endpoint: e?.url ?? "none", outcome });
}

/** The client left or the router is stopping: nothing more is to be done for `f`. */
export function gone(ctx: RouterContext, f: Flight): boolean {
  return f.signal.aborted || ctx.stop.aborted;
}
