/**
 * An engine's prefix cache: an LRU set of prefix block ids with a capacity. A request
 * hits the leading run of its blocks that is present; inserting past capacity evicts the least
 * recently used blocks, which are reported so the router's prefix index can forget them.
 *
 * Layout (every operation O(1) per block, nothing allocated per block): each resident block
 * owns a slot in typed arrays (`#ids`, and `#links`, the recency list from oldest to newest);
 * an open-addressing table (`#table`, block_table.ts: id and slot side by side, linear probing
 * from a Fibonacci hash of the id, backward-shift deletion) finds a block's slot. Both grow by
 * doubling as blocks arrive (an insert fills past the capacity, then evicts), so a cache that
 * stays small costs little; evicted slots are reused through a free list. (A JS Map keyed by
 * block id, using its insertion order as the recency order, did the same and cost a third of a
 * simulation's time: block ids above 2^31 are boxed doubles, and evicting through
 * `keys().next()` rescans deleted entries.)
 *
 * Two ways to use it. A reserved cache (`insert` and `match`) has the fixed `capacityBlocks`.
 * A cache sharing its engine's KV pool, as vLLM's does, pins the blocks of resident sequences
 * (`matchPinned`, `acquire`, `release`): a pinned block (`#pins` > 0) is out of the recency list,
 * so it hits but is never evicted; released, it rejoins the list as the most recently used, and
 * `shrinkTo` evicts the least recently used unpinned blocks once the engine's free KV shrinks.
 */

import { BlockTable } from "./block_table.ts";

const NONE: readonly number[] = Object.freeze([]);

export class PrefixCache {
  #ids = new Float64Array(0);
  /** The recency list: slot s's previous and next at 2s and 2s + 1 (one cache line). */
  #links = new Int32Array(0);
  /** The `insert` call that put each slot's block in (to spot one evicted in that call). */
  #addedIn = new Float64Array(0);
  /** Sequences pinning each slot's block (0: in the recency list, evictable). */
  #pins = new Int32Array(0);
  /** Slots with pins > 0. */
  #pinned = 0;
  #calls = 0;
  /** Slots handed out so far, and the first freed one (a list through next links; -1: none). */
  #usedSlots = 0;
  #freeSlot = -1;
  /** Block id -> slot (src/engine_model/block_table.ts). */
  readonly #table = new BlockTable();
  /** Least and most recently used slots (-1: empty). */
  #oldest = -1;
  #newest = -1;

  constructor(readonly capacityBlocks: number) {}

  get size(): number {
    return this.#table.size;
  }

  /** Distinct blocks pinned by resident sequences (never evicted). */
  get pinnedBlocks(): number {
    return this.#pinned;
  }

  /** Every unpinned resident block, least recently used first (every block when none is pinned). */
  blocks(): number[] {
    const out: number[] = [];
    for (let slot = this.#oldest; slot >= 0; slot = this.#links[2 * slot + 1]) {
      out.push(this.#ids[slot]);
    }
    return out;
  }

  /**
   * Forgets every block (an engine's prefix cache reset). Refused (false, nothing forgotten)
   * while a sequence pins blocks, as vLLM refuses to reset a cache whose blocks are in use.
   */
  clear(): boolean {
    if (this.#pinned > 0) return false;
    this.#table.clear();
    this.#usedSlots = 0;
    this.#freeSlot = -1;
    this.#oldest = -1;
    this.#newest = -1;
    return true;
  }

  /** Leading blocks of `ids` present (and refreshed as recently used). */
  match(ids: readonly number[]): number {
    let hits = 0;
    for (const id of ids) {
      const slot = this.#table.find(id);
      if (slot < 0) break;
      this.#touch(slot);
      hits++;
    }
    return hits;
  }

  /** Inserts `ids`; returns the newly added ids and the evicted ones (to mirror in the router). */
  insert(ids: readonly number[]): { added: number[]; evicted: number[] } {
    // Fresh arrays: emptying reused ones (length = 0) costs V8 more than allocating.
    const added: number[] = [];
    const evicted: number[] = [];
    if (this.capacityBlocks <= 0) return { added, evicted };
    const call = ++this.#calls;
    for (const id of ids) {
      const found = this.#table.find(id);
      if (found >= 0) {
        this.#touch(found);
        continue;
      }
      added.push(id);
      const slot = this.#allocate();
      this.#ids[slot] = id;
      this.#addedIn[slot] = call;
      this.#pins[slot] = 0;
      this.#table.remember(id, slot);
      this.#link(slot);
    }
    // Evict once the whole call is in (the cache may hold more than its capacity meanwhile).
    let overlap = false;
    while (this.#table.size > this.capacityBlocks && this.#oldest >= 0) {
      if (this.#addedIn[this.#oldest] === call) overlap = true;
      evicted.push(this.#evictOldest());
    }
    // A block both added and evicted in one call never reached the router: drop it from both.
    if (overlap) {
      const gone = new Set(evicted);
      return {
        added: added.filter((id) => !gone.has(id)),
        evicted: evicted.filter((id) => !added.includes(id)),
      };
    }
    return { added, evicted };
  }

  /** Leading blocks of `ids` present, each pinned (by a sequence admitted with them). */
  matchPinned(ids: readonly number[]): number {
    let hits = 0;
    for (const id of ids) {
      const slot = this.#table.find(id);
      if (slot < 0) break;
      this.#pin(slot);
      hits++;
    }
    return hits;
  }

  /**
   * A sequence holds all of `ids`, of which it already pins the first `from` (its prefix hits):
   * the missing ones are added and `ids[from..]` pinned. Nothing is evicted (`shrinkTo` does
   * that). Returns the added ids.
   */
  acquire(ids: readonly number[], from: number): number[] {
    const added: number[] = [];
    for (let i = from; i < ids.length; i++) {
      const id = ids[i];
      const found = this.#table.find(id);
      if (found >= 0) {
        this.#pin(found);
        continue;
      }
      added.push(id);
      const slot = this.#allocate();
      this.#ids[slot] = id;
      this.#addedIn[slot] = 0;
      this.#pins[slot] = 1;
      this.#pinned++;
      this.#table.remember(id, slot); // pinned: not in the recency list
    }
    return added;
  }

  /**
   * A sequence lets go of `ids[0..count)`: each block no one pins any more becomes the most
   * recently used, the last first, so that a prefix's tail is evicted before its head (the
   * order in which vLLM returns a finished request's blocks to its free queue).
   */
  release(ids: readonly number[], count: number): void {
    for (let i = count - 1; i >= 0; i--) {
      const slot = this.#table.find(ids[i]);
      if (slot < 0 || this.#pins[slot] === 0) {
        throw new Error(`prefix block ${ids[i]} released but not pinned`);
      }
      if (--this.#pins[slot] === 0) {
        this.#pinned--;
        this.#link(slot);
      }
    }
  }

  /**
   * Evicts least recently used unpinned blocks until at most `capacity` remain or only pinned
   * ones do (pinned blocks stay whatever the capacity). Returns the evicted ids, oldest first.
   */
  shrinkTo(capacity: number): readonly number[] {
    if (this.#table.size <= capacity || this.#oldest < 0) return NONE;
    const evicted: number[] = [];
    while (this.#table.size > capacity && this.#oldest >= 0) evicted.push(this.#evictOldest());
    return evicted;
  }

  #pin(slot: number): void {
    if (this.#pins[slot]++ > 0) return;
    this.#pinned++;
    this.#unlink(slot);
  }

  /** Removes the least recently used (unpinned) block; returns its id. */
  #evictOldest(): number {
    const slot = this.#oldest;
    const id = this.#ids[slot];
    this.#unlink(slot);
    this.#table.forget(id);
    this.#links[2 * slot + 1] = this.#freeSlot;
    this.#freeSlot = slot;
    return id;
  }

  #allocate(): number {
    const free = this.#freeSlot;
    if (free >= 0) {
      this.#freeSlot = this.#links[2 * free + 1];
      return free;
    }
    if (this.#usedSlots === this.#ids.length) this.#grow();
    return this.#usedSlots++;
  }

  /** Moves `slot` to the most recently used end (a pinned slot is in no list: left alone). */
  #touch(slot: number): void {
    if (slot === this.#newest || this.#pins[slot] > 0) return;
    this.#unlink(slot);
    this.#link(slot);
  }

  #unlink(slot: number): void {
    const links = this.#links;
    const p = links[2 * slot], n = links[2 * slot + 1];
    if (p >= 0) links[2 * p + 1] = n;
    else this.#oldest = n;
    if (n >= 0) links[2 * n] = p;
    else this.#newest = p;
  }

  #link(slot: number): void {
    const links = this.#links;
    links[2 * slot] = this.#newest;
    links[2 * slot + 1] = -1;
    if (this.#newest >= 0) links[2 * this.#newest + 1] = slot;
    else this.#oldest = slot;
    this.#newest = slot;
  }

  /**
   * More slots (doubling; once past the capacity, the capacity plus room for one insert's
   * overshoot) and the table rebuilt at twice their number.
   */
  #grow(): void {
    const old = this.#ids.length;
    let slots = Math.max(64, old * 2);
    if (slots > this.capacityBlocks) slots = Math.max(this.capacityBlocks + 64, old + 64);
    const ids = new Float64Array(slots), links = new Int32Array(2 * slots);
    const addedIn = new Float64Array(slots), pins = new Int32Array(slots);
    ids.set(this.#ids);
    links.set(this.#links);
    addedIn.set(this.#addedIn);
    pins.set(this.#pins);
    this.#ids = ids;
    this.#links = links;
    this.#addedIn = addedIn;
    this.#pins = pins;
    this.#table.reset(slots);
    // Growing means no slot was free (allocation takes freed ones first): every slot handed out
    // holds a block, pinned ones (in no list) included.
    for (let slot = 0; slot < this.#usedSlots; slot++) this.#table.remember(ids[slot], slot);
  }
}
