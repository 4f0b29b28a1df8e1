/**
 * An engine's prefix cache: an LRU set of prefix block ids with a fixed capacity. A request
 * hits the leading run of its blocks that is present; inserting past capacity evicts the least
 * recently used blocks, which are reported so the router's prefix index can forget them.
 */
export class PrefixCache {
  /** Map iteration order is insertion order: the first key is the least recently used. */
  readonly #blocks = new Map<number, true>();

  constructor(readonly capacityBlocks: number) {}

  get size(): number {
    return this.#blocks.size;
  }

  /** Leading blocks of `ids` present (and refreshed as recently used). */
  match(ids: readonly number[]): number {
    let hits = 0;
    for (const id of ids) {
      if (!this.#blocks.has(id)) break;
      this.#blocks.delete(id);
      this.#blocks.set(id, true);
      hits++;
    }
    return hits;
  }

  /** Inserts `ids`; returns the newly added ids and the evicted ones (to mirror in the router). */
  insert(ids: readonly number[]): { added: number[]; evicted: number[] } {
    const added: number[] = [];
    const evicted: number[] = [];
    if (this.capacityBlocks <= 0) return { added, evicted };
    for (const id of ids) {
      if (this.#blocks.has(id)) {
        this.#blocks.delete(id);
      } else {
        added.push(id);
      }
      this.#blocks.set(id, true);
    }
    while (this.#blocks.size > this.capacityBlocks) {
      const oldest = this.#blocks.keys().next().value as number;
      this.#blocks.delete(oldest);
      evicted.push(oldest);
    }
    // A block both added and evicted in one call never reached the router: drop it from both.
    if (evicted.length > 0 && added.length > 0) {
      const gone = new Set(evicted);
      return {
        added: added.filter((id) => !gone.has(id)),
        evicted: evicted.filter((id) => !added.includes(id)),
      };
    }
    return { added, evicted };
  }
}
