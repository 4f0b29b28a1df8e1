/**
 * The prefix cache as a share of the engine's KV pool (vLLM's model): blocks pinned by resident
 * sequences hit but are never evicted, released blocks rejoin the LRU (a prefix's tail first),
 * and `shrinkTo` evicts the least recently used unpinned blocks down to a capacity. Checked
 * against a plain model (a Map in recency order for the unpinned blocks, pin counts beside it)
 * under random admissions, stores, releases and shrinks, with the invariants the router relies
 * on: every eviction is reported once, for a block that was reported added, never a pinned one.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { PrefixCache } from "../../src/engine_model/prefix_cache.ts";

class ModelPool {
  /** Unpinned blocks, least recently used first. */
  readonly lru = new Map<number, true>();
  readonly pins = new Map<number, number>();

  get size(): number {
    return this.lru.size + this.pins.size;
  }

  #pin(id: number): boolean {
    if (this.lru.delete(id)) this.pins.set(id, 1);
    else if (this.pins.has(id)) this.pins.set(id, this.pins.get(id)! + 1);
    else return false;
    return true;
  }

  matchPinned(ids: readonly number[]): number {
    let hits = 0;
    for (const id of ids) {
      if (!this.#pin(id)) break;
      hits++;
    }
    return hits;
  }

  acquire(ids: readonly number[], from: number): number[] {
    const added: number[] = [];
    for (const id of ids.slice(from)) {
      if (this.#pin(id)) continue;
      added.push(id);
      this.pins.set(id, 1);
    }
    return added;
  }

  release(ids: readonly number[], count: number): void {
    for (let i = count - 1; i >= 0; i--) {
      const left = this.pins.get(ids[i])! - 1;
      if (left > 0) this.pins.set(ids[i], left);
      else {
        this.pins.delete(ids[i]);
        this.lru.set(ids[i], true);
      }
    }
  }

  shrinkTo(capacity: number): number[] {
    const evicted: number[] = [];
    while (this.size > capacity && this.lru.size > 0) {
      const oldest = this.lru.keys().next().value as number;
      this.lru.delete(oldest);
      evicted.push(oldest);
    }
    return evicted;
  }
}

const ids = fc.array(
  fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0x80000000, max: 0x80000008 })),
  { maxLength: 10 },
);
const op = fc.oneof(
  fc.record({ kind: fc.constant("admit" as const), ids }),
  fc.record({ kind: fc.constant("store" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("shrink" as const), capacity: fc.integer({ min: 0, max: 25 }) }),
);

Deno.test("a shared-pool cache matches its model: pins, LRU order, evictions reported once", () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
      const cache = new PrefixCache(64), model = new ModelPool();
      const holders: { ids: readonly number[]; pinned: number }[] = [];
      const reported = new Set<number>(); // what the router was told is resident
      for (const o of ops) {
        if (o.kind === "admit") {
          const hits = cache.matchPinned(o.ids);
          equal(hits, model.matchPinned(o.ids));
          holders.push({ ids: o.ids, pinned: hits });
        } else if (o.kind === "store" && holders.length > 0) {
          const h = holders[o.pick % holders.length];
          const added = cache.acquire(h.ids, h.pinned);
          deepEqual(added, model.acquire(h.ids, h.pinned));
          for (const id of added) {
            ok(!reported.has(id), `block ${id} reported added twice`);
            reported.add(id);
          }
          h.pinned = h.ids.length;
        } else if (o.kind === "release" && holders.length > 0) {
          const [h] = holders.splice(o.pick % holders.length, 1);
          cache.release(h.ids, h.pinned);
          model.release(h.ids, h.pinned);
        } else if (o.kind === "shrink") {
          const evicted = cache.shrinkTo(o.capacity);
          deepEqual([...evicted], model.shrinkTo(o.capacity));
          for (const id of evicted) {
            ok(reported.delete(id), `block ${id} evicted but not resident (or evicted twice)`);
            ok(!model.pins.has(id), `pinned block ${id} evicted`);
          }
          // Never below the pinned blocks, whatever the capacity asked.
          equal(cache.size, Math.max(Math.min(o.capacity, cache.size), cache.pinnedBlocks));
        }
        equal(cache.size, model.size);
        equal(cache.pinnedBlocks, model.pins.size);
        deepEqual(cache.blocks(), [...model.lru.keys()]);
      }
    }),
    { numRuns: 400 },
  );
});

Deno.test("released blocks keep hitting until the capacity needs them, a prefix's tail first", () => {
  const cache = new PrefixCache(64);
  const a = [1, 2, 3, 4];
  equal(cache.matchPinned(a), 0);
  deepEqual(cache.acquire(a, 0), a);
  equal(cache.size, 4);
  deepEqual(cache.shrinkTo(0), [], "all pinned: nothing can go");
  cache.release(a, 4);
  equal(cache.pinnedBlocks, 0);
  deepEqual(cache.blocks(), [4, 3, 2, 1], "the tail is the least recently used");
  deepEqual(cache.shrinkTo(4), [], "within the capacity nothing goes");
  deepEqual(cache.shrinkTo(2), [4, 3]);
  equal(cache.matchPinned([1, 2, 3]), 2);
  deepEqual(cache.shrinkTo(0), [], "the hits are pinned now");
  equal(cache.size, 2);
  ok(!cache.clear(), "a reset is refused while blocks are in use");
  cache.release([1, 2], 2);
  ok(cache.clear());
  equal(cache.size, 0);
});

Deno.test("pinned blocks survive the table growing (they are in no recency list)", () => {
  const cache = new PrefixCache(10_000);
  const held = Array.from({ length: 50 }, (_, i) => 1000 + i);
  cache.acquire(held, 0);
  const more = Array.from({ length: 500 }, (_, i) => 5000 + i);
  cache.acquire(more, 0);
  cache.release(more, more.length);
  equal(cache.matchPinned(held), 50);
  equal(cache.pinnedBlocks, 50);
  deepEqual(cache.shrinkTo(0).length, 500);
  equal(cache.size, 50);
});
