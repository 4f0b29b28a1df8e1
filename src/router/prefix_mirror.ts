/**
 * The router's approximate prefix index: per endpoint, an LRU of the prefix blocks the router
 * saw computed there, as large as the engine's prefix cache, written into the scoring core.
 *
 * The router hashes each prompt into prefix blocks (src/openai/prefix_blocks.ts; in precise
 * mode the engine's own block hashes, src/router/kv_precise.ts) and, when a prefill completes,
 * records them on the endpoint that computed them (and on the decode endpoint that received the
 * KV). Engines do not report evictions here, so the index can believe a block is cached after
 * the engine dropped it (the request then just prefills more). Endpoints whose KV events are
 * fresh (`precise`) keep learning here but their core entries come from the events.
 */
import type { ScoringCore } from "../core/scoring_core.ts";
import { PrefixCache } from "../engine_model/prefix_cache.ts";

export class PrefixMirror {
  /** Prefix (endpoint, block) pairs the core had no room for. */
  overflow = 0;
  /** Endpoints whose core prefix entries come from their KV events (src/router/kv_precise.ts). */
  precise: (e: number) => boolean = () => false;
  /** Called with the blocks recorded on an endpoint by this replica (the sync shares them). */
  onRecord: ((e: number, blocks: readonly number[]) => void) | null = null;
  readonly #caches: PrefixCache[];

  constructor(readonly core: ScoringCore, count: number, capacityBlocks: number) {
    this.#caches = Array.from({ length: count }, () => new PrefixCache(capacityBlocks));
  }

  /** Blocks this router saw computed on endpoint `e` (shared with the other replicas). */
  record(e: number, blocks: readonly number[]): void {
    if (blocks.length === 0) return;
    this.mirror(e, blocks);
    this.onRecord?.(e, blocks);
  }

  /** Blocks another replica recorded on endpoint `e` (not shared again). */
  mirror(e: number, blocks: readonly number[]): void {
    if (blocks.length === 0) return;
    const { added, evicted } = this.#caches[e].insert(blocks);
    if (this.precise(e)) return;
    if (evicted.length > 0) this.core.removePrefixBlocks(e, evicted);
    if (added.length > 0) this.overflow += this.core.addPrefixBlocks(e, added);
  }

  /** Endpoint `e`'s blocks, least recently used first (a joining replica's snapshot). */
  blocks(e: number): number[] {
    return this.#caches[e].blocks();
  }

  /** Writes `e`'s blocks into the core (its KV events went stale). */
  intoCore(e: number): void {
    this.overflow += this.core.addPrefixBlocks(e, this.#caches[e].blocks());
  }

  /** The endpoint restarted or came back: its cache is cold. */
  forget(e: number): void {
    if (!this.precise(e)) this.core.removeEndpointBlocks(e);
    this.#caches[e] = new PrefixCache(this.#caches[e].capacityBlocks);
  }
}
