/**
 * The engine's prefix cache (typed-array LRU with an open-addressing table) against a plain
 * model of its contract: a Map whose insertion order is the recency order, evicting the oldest
 * once a whole insert is in, and dropping from both lists a block added and evicted in one call.
 * Small capacities and id ranges force evictions, re-insertions and the overlap cases; ids
 * above 2^31 exercise the values that are not small integers.
 */
import { deepEqual, equal } from "node:assert/strict";
import fc from "fast-check";
import { PrefixCache } from "../../src/engine_model/prefix_cache.ts";

class ModelCache {
  readonly blocks = new Map<number, true>();
  constructor(readonly capacity: number) {}

  match(ids: readonly number[]): number {
    let hits = 0;
    for (const id of ids) {
      if (!this.blocks.has(id)) break;
      this.blocks.delete(id);
      this.blocks.set(id, true);
      hits++;
    }
    return hits;
  }

  insert(ids: readonly number[]): { added: number[]; evicted: number[] } {
    const added: number[] = [], evicted: number[] = [];
    if (this.capacity <= 0) return { added, evicted };
    for (const id of ids) {
      if (this.blocks.has(id)) this.blocks.delete(id);
      else added.push(id);
      this.blocks.set(id, true);
    }
    while (this.blocks.size > this.capacity) {
      const oldest = this.blocks.keys().next().value as number;
      this.blocks.delete(oldest);
      evicted.push(oldest);
    }
    const gone = new Set(evicted);
    return {
      added: added.filter((id) => !gone.has(id)),
      evicted: evicted.filter((id) => !added.includes(id)),
    };
  }
}

const blockIds = fc.array(
  fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0x80000000, max: 0x80000010 })),
  { maxLength: 12 },
);
const op = fc.record({ insert: fc.boolean(), ids: blockIds });

Deno.test("the prefix cache matches its model: hits, additions, evictions and their order", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 20 }), fc.array(op, { maxLength: 80 }), (cap, ops) => {
      const cache = new PrefixCache(cap), model = new ModelCache(cap);
      for (const { insert, ids } of ops) {
        if (insert) deepEqual(cache.insert(ids), model.insert(ids));
        else equal(cache.match(ids), model.match(ids));
        equal(cache.size, model.blocks.size);
      }
      // The recency order agrees too: matching each block alone refreshes it in both.
      for (const id of [...model.blocks.keys()]) equal(cache.match([id]), 1);
    }),
    { numRuns: 400 },
  );
});

Deno.test("the prefix cache matches its model while its slots and table grow", () => {
  const wide = fc.array(fc.integer({ min: 0, max: 600 }), { maxLength: 60 });
  fc.assert(
    fc.property(
      fc.integer({ min: 40, max: 200 }),
      fc.array(fc.record({ insert: fc.boolean(), ids: wide }), { maxLength: 60 }),
      (cap, ops) => {
        const cache = new PrefixCache(cap), model = new ModelCache(cap);
        for (const { insert, ids } of ops) {
          if (insert) deepEqual(cache.insert(ids), model.insert(ids));
          else equal(cache.match(ids), model.match(ids));
          equal(cache.size, model.blocks.size);
        }
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("an insert longer than the capacity keeps the newest and reports what stayed", () => {
  const cache = new PrefixCache(2);
  deepEqual(cache.insert([1, 2, 3]), { added: [2, 3], evicted: [] });
  deepEqual(cache.insert([4]), { added: [4], evicted: [2] });
  equal(cache.match([3, 4]), 2);
});
