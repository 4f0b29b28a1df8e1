/**
 * A request's work on one engine. `full`: prefill and decode here (shared pool or local
 * prefill). `prefill`: prefill only, then the KV is handed to a decode engine (disaggregated).
 * `decode`: the KV arrived from elsewhere (a prefill engine or a migration); decode only.
 */
import type { HeapItem } from "./finish_heap.ts";
import type { SimRequest } from "../workload/request.ts";

export type JobPhase = "full" | "prefill" | "decode";

export interface Job extends HeapItem {
  readonly request: SimRequest;
  phase: JobPhase;
  /** Prompt tokens still to compute before decoding can start. */
  prefillRemaining: number;
  /** Prompt tokens served from this engine's prefix cache (set at admission). */
  cachedTokens: number;
  /** Tokens generated so far (the first comes out of the prefill step when prefilled here). */
  generated: number;
  /** KV tokens this job holds on its engine. */
  kvTokens: number;
  /** Leading prefix blocks it pins in its engine's shared prefix pool (always 0 when reserved). */
  pinnedBlocks: number;
  /** Whether the first token was already produced (so a recompute does not produce another). */
  firstTokenDone: boolean;
  /** Decode step at which this sequence joined the running batch. */
  joinClock: number;
  /** Set by the engine to remove the job at the next step boundary (migration). */
  removeAtBoundary: boolean;
  /** Whatever the host attached (the simulator's request record); engines never read it. */
  readonly owner: unknown;
}

export function newJob(request: SimRequest, phase: JobPhase, owner: unknown = null): Job {
  return {
    request,
    owner,
    phase,
    prefillRemaining: phase === "decode" ? 0 : request.promptTokens,
    cachedTokens: 0,
    generated: 0,
    kvTokens: 0,
    pinnedBlocks: 0,
    firstTokenDone: false,
    joinClock: 0,
    removeAtBoundary: false,
    finishClock: 0,
    admitOrder: 0,
    heapIndex: -1,
  };
}
