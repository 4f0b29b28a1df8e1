/**
 * The prefix cache's index from block id to slot: open addressing, id and slot + 1 side by side
 * in one Float64Array (0: empty), linear probing from the top bits of a Fibonacci hash of the id
 * (ids are u32), backward-shift deletion. Sized by `reset` to hold a given number of slots at
 * most half full.
 */
export class BlockTable {
  #table = new Float64Array(0);
  #mask = 0;
  /** 32 - log2(table size). */
  #shift = 32;
  #size = 0;

  /** Ids held. */
  get size(): number {
    return this.#size;
  }

  /** Empties the table, sized for at most `slots` ids (twice that many entries). */
  reset(slots: number): void {
    let size = 1, bits = 0;
    while (size < 2 * slots) {
      size *= 2;
      bits++;
    }
    this.#shift = 32 - bits;
    this.#mask = size - 1;
    this.#table = new Float64Array(2 * size);
    this.#size = 0;
  }

  /** Forgets every id, keeping the size. */
  clear(): void {
    this.#table.fill(0);
    this.#size = 0;
  }

  #home(id: number): number {
    return Math.imul(id, 0x9e3779b1) >>> this.#shift;
  }

  /** The slot holding `id`, or -1. */
  find(id: number): number {
    const table = this.#table, mask = this.#mask;
    if (table.length === 0) return -1;
    for (let h = this.#home(id); table[2 * h + 1] !== 0; h = (h + 1) & mask) {
      if (table[2 * h] === id) return table[2 * h + 1] - 1;
    }
    return -1;
  }

  /** Adds `id` (not present) at `slot`. */
  remember(id: number, slot: number): void {
    const table = this.#table, mask = this.#mask;
    let h = this.#home(id);
    while (table[2 * h + 1] !== 0) h = (h + 1) & mask;
    table[2 * h] = id;
    table[2 * h + 1] = slot + 1;
    this.#size++;
  }

  /** Removes `id` (present), shifting later entries of its probe run back. */
  forget(id: number): void {
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
}
