/** One request of a workload, in arrival order. */
export interface SimRequest {
  /** Position in the workload, 0-based. */
  readonly id: number;
  readonly arrivalMs: number;
  readonly promptTokens: number;
  /** Tokens the engine will actually generate (known to the simulator, not to the router). */
  readonly outputTokens: number;
  /** Prefix block ids (each `prefixBlockTokens` prompt tokens); empty when unknown. */
  readonly prefixBlocks: readonly number[];
}

/**
 * A workload delivered in arrival-ordered batches, so traces stream from disk and synthetic
 * generators produce lazily: memory stays bounded however long the run. `next` returns an
 * empty batch when the workload is exhausted.
 */
export interface RequestSource {
  readonly description: string;
  next(): Promise<SimRequest[]>;
}
