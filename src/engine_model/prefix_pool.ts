/**
 * Where an engine's prefix cache lives (`engine.prefixCachePool`, docs/SIMULATOR.md):
 *
 * - "reserved": a fixed LRU of `prefixCacheBlocks` beside the running sequences' KV (the
 *   simulator's first model).
 * - "shared": vLLM's one block pool. A finished request's blocks go back to the free pool with
 *   their hashes and keep hitting until new allocations need them (LRU over the free cached
 *   blocks); blocks of resident sequences hit too and cannot be evicted. So the cache holds at
 *   most (free GPU KV tokens / block tokens) + (blocks pinned by resident sequences), and
 *   shrinks as running sequences take KV.
 *
 * `PrefixPool` is the engine's side of that: which blocks a job hits, caches, pins and lets go
 * of, and the evictions that free KV forces. Every call is O(blocks touched); nothing is
 * allocated when nothing changes.
 */
import type { EngineConfig } from "./engine.ts";
import type { Job } from "./job.ts";
import { PrefixCache } from "./prefix_cache.ts";

export type PrefixCachePool = "shared" | "reserved";

export const PREFIX_CACHE_POOLS: readonly PrefixCachePool[] = ["shared", "reserved"];

/** Whether `config`'s prefix cache shares the KV pool (a disabled cache never does). */
export function sharesKvPool(config: EngineConfig): boolean {
  return config.prefixCachePool === "shared" && config.prefixCacheBlocks > 0;
}

/**
 * The most blocks the engine's prefix cache can hold: its capacity when reserved; the whole
 * KV (GPU and host slab) in blocks when shared (what a router's index must be able to mirror).
 */
export function prefixCacheBound(config: EngineConfig): number {
  if (!sharesKvPool(config)) return config.prefixCacheBlocks;
  return Math.floor((config.gpuKvTokens + config.slabKvTokens) / config.prefixBlockTokens);
}

export interface PrefixChange {
  readonly added: readonly number[];
  readonly evicted: readonly number[];
}

export class PrefixPool {
  readonly cache: PrefixCache;
  readonly shared: boolean;

  constructor(readonly config: EngineConfig) {
    this.shared = sharesKvPool(config);
    this.cache = new PrefixCache(prefixCacheBound(config));
  }

  /** At admission: the prompt's leading cached blocks (pinned by the job when shared). */
  hits(job: Job): number {
    const blocks = job.request.prefixBlocks;
    if (!this.shared) return this.cache.match(blocks);
    const hits = this.cache.matchPinned(blocks);
    job.pinnedBlocks = hits;
    return hits;
  }

  /**
   * The job's prefix blocks are all here now (prefilled, or arrived with its KV): cached, and
   * pinned by it when shared. Returns what changed (null: nothing).
   */
  store(job: Job): PrefixChange | null {
    const blocks = job.request.prefixBlocks;
    if (blocks.length === 0) return null;
    if (!this.shared) {
      const change = this.cache.insert(blocks);
      return change.added.length > 0 || change.evicted.length > 0 ? change : null;
    }
    const added = this.cache.acquire(blocks, job.pinnedBlocks);
    job.pinnedBlocks = blocks.length;
    return added.length > 0 ? { added, evicted: [] } : null;
  }

  /** The job's KV left the engine (finished, preempted, removed or pulled): unpin its blocks. */
  release(job: Job): void {
    if (job.pinnedBlocks === 0) return;
    this.cache.release(job.request.prefixBlocks, job.pinnedBlocks);
    job.pinnedBlocks = 0;
  }

  /**
   * Shared pool: evicts down to (free GPU KV / block tokens) + pinned blocks, given the KV
   * tokens in use. Returns the evicted blocks (empty when reserved or nothing had to go).
   */
  fit(usedKvTokens: number): readonly number[] {
    if (!this.shared) return NO_BLOCKS;
    const free = Math.max(0, this.config.gpuKvTokens - usedKvTokens);
    const capacity = Math.floor(free / this.config.prefixBlockTokens) + this.cache.pinnedBlocks;
    return this.cache.shrinkTo(capacity);
  }
}

const NO_BLOCKS: readonly number[] = Object.freeze([]);
