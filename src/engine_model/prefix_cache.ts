/**
 * An engine's prefix cache: an LRU set of prefix block ids with a fixed capacity. A request
 * hits the leading run of its blocks that is present; inserting past capacity evicts the least
 * recently used blocks, which are reported so the router's prefix index can forget them.
 *
 * Layout (every operation O(1) per block, nothing allocated per block): each resident block
 * owns a slot in typed arrays (`#ids`, and `#links`, the recency list from oldest to newest);
 * an open-addressing table (`#table`: id and slot side by side, linear probing from a Fibonacci
 * hash of the id,
 * backward-shift deletion) finds a block's slot. Both grow by doubling as blocks arrive (an
 * insert fills past the capacity, then evicts), so a cache that stays small costs little;
 * evicted slots are reused through a free list. (A JS Map keyed by block id, using its insertion order
 * as the recency order, did the same and cost a third of a simulation's time: block ids above
 * 2^31 are boxed doubles, and evicting through `keys().next()` rescans deleted entries.)
 */

export class PrefixCache {
  #ids = new Float64Array(0);
  /** The recency list: slot s's previous and next at 2s and 2s + 1 (one cache line). */
  #links = new Int32Array(0);
  /** The `insert` call that put each slot's block in (to spot one evicted in that call). */
  #addedIn = new Float64Array(0);
  #calls = 0;
  /** Slots handed out so far, and the first freed one (a list through next links; -1: none). */
  #usedSlots = 0;
  #freeSlot = -1;
  /** Hash table: entry h is the block id at 2h and its slot + 1 (0: empty) at 2h + 1. */
  #table = new Float64Array(0);
  #mask = 0;
  /** 32 - log2(table size). */
  #shift = 32;
  #size = 0;
  /** Least and most recently used slots (-1: empty). */
  #oldest = -1;
  #newest = -1;

  constructor(readonly capacityBlocks: number) {}

  get size(): number {
    return this.#size;
  }

  /** Every resident block, least recently used first. */
  blocks(): number[] {
    const out: number[] = [];
    for (let slot = this.#oldest; slot >= 0; slot = this.#links[2 * slot + 1]) {
      out.push(this.#ids[slot]);
    }
    return out;
  }

  /** Forgets every block (an engine's prefix cache reset). */
  clear(): void {
    this.#table.fill(0);
    this.#usedSlots = 0;
    this.#freeSlot = -1;
    this.#size = 0;
    this.#oldest = -1;
    this.#newest = -1;
  }

  /** Leading blocks of `ids` present (and refreshed as recently used). */
  match(ids: readonly number[]): number {
    let hits = 0;
    for (const id of ids) {
      const slot = this.#find(id);
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
      const found = this.#find(id);
      if (found >= 0) {
        this.#touch(found);
        continue;
      }
      added.push(id);
      const slot = this.#allocate();
      this.#ids[slot] = id;
      this.#addedIn[slot] = call;
      this.#remember(id, slot);
      this.#link(slot);
    }
    // Evict once the whole call is in (the cache may hold more than its capacity meanwhile).
    let overlap = false;
    while (this.#size > this.capacityBlocks) {
      const slot = this.#oldest;
      if (this.#addedIn[slot] === call) overlap = true;
      evicted.push(this.#ids[slot]);
      this.#unlink(slot);
      this.#forget(this.#ids[slot]);
      this.#links[2 * slot + 1] = this.#freeSlot;
      this.#freeSlot = slot;
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

  #allocate(): number {
    const free = this.#freeSlot;
    if (free >= 0) {
      this.#freeSlot = this.#links[2 * free + 1];
      return free;
    }
    if (this.#usedSlots === this.#ids.length) this.#grow();
    return this.#usedSlots++;
  }

  /** Moves `slot` to the most recently used end. */
  #touch(slot: number): void {
    if (slot === this.#newest) return;
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

  /** Where `id`'s probe run starts: the top bits of a Fibonacci hash (ids are u32). */
  #home(id: number): number {
    return Math.imul(id, 0x9e3779b1) >>> this.#shift;
  }

  /** The slot holding `id`, or -1. */
  #find(id: number): number {
    const table = this.#table, mask = this.#mask;
    if (table.length === 0) return -1;
    for (let h = this.#home(id); table[2 * h + 1] !== 0; h = (h + 1) & mask) {
      if (table[2 * h] === id) return table[2 * h + 1] - 1;
    }
    return -1;
  }

  #remember(id: number, slot: number): void {
    const table = this.#table, mask = this.#mask;
    let h = this.#home(id);
    while (table[2 * h + 1] !== 0) h = (h + 1) & mask;
    table[2 * h] = id;
    table[2 * h + 1] = slot + 1;
    this.#size++;
  }

  /** Removes `id` from the table, shifting later entries of its probe run back. */
  #forget(id: number): void {
    const table = this.#table, mask = this.#mask;
    let h = this.#home(id);
    while (table[2 * h] !== id || table[2 * h + 1] === 0) h = (h + 1) & mask;
    for (let j = (h + 1) & mask; table[2 * j + 1] !== 0; j = (j + 1) & mask) {
      const home = this.#home(table[2 * j]);
      // Entry j may fill the hole at h when h lies cyclically in [home, j).
      if (((j - home) & mask) >= ((j - h) & mask)) {
        table[2 * h] = table[2 * j];
        table[2 * h + 1] = table[2 * j + 1];
        h = j;
      }
    }
    table[2 * h + 1] = 0;
    this.#size--;
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
    const addedIn = new Float64Array(slots);
    ids.set(this.#ids);
    links.set(this.#links);
    addedIn.set(this.#addedIn);
    this.#ids = ids;
    this.#links = links;
    this.#addedIn = addedIn;
    let size = 1, bits = 0;
    while (size < 2 * slots) {
      size *= 2;
      bits++;
    }
    this.#shift = 32 - bits;
    this.#mask = size - 1;
    this.#table = new Float64Array(2 * size);
    this.#size = 0;
    for (let slot = this.#oldest; slot >= 0; slot = links[2 * slot + 1]) {
      this.#remember(ids[slot], slot);
    }
  }
}
