/**
 * The discrete-event queue: a binary min-heap on (time, insertion order). Insertion order
 * breaks time ties, so equal-time events run in the order they were scheduled and the whole
 * simulation is deterministic.
 *
 * Two kinds of entries share the heap. Keyed entries (0 <= key < `keys`, one per engine) hold
 * at most one pending time each: `set` moves the key's entry instead of adding another, so the
 * heap never fills with superseded wake-ups. Other entries carry an event object. The heap
 * itself is three typed arrays (time, sequence number, reference), so ordering reads no
 * objects.
 */
export class EventQueue<E> {
  #time = new Float64Array(64);
  #seq = new Float64Array(64);
  /** Entry reference: a key (< keys) or keys + an index into `#items`. */
  #ref = new Int32Array(64);
  #size = 0;
  #nextSeq = 0;
  /** Heap position of each key's entry, -1 when it has none. */
  readonly #pos: Int32Array;
  readonly #items: (E | undefined)[] = [];
  readonly #free: number[] = [];
  /** Time of the entry `pop` returned last. */
  time = 0;

  constructor(readonly keys = 0) {
    this.#pos = new Int32Array(keys).fill(-1);
  }

  get size(): number {
    return this.#size;
  }

  /** Schedules `item` at `time`. */
  push(time: number, item: E): void {
    const index = this.#free.length > 0 ? this.#free.pop()! : this.#items.length;
    this.#items[index] = item;
    this.#insert(time, this.keys + index);
  }

  /** Schedules `key` at `time`, replacing its pending entry if it has one. */
  set(key: number, time: number): void {
    const at = this.#pos[key];
    if (at < 0) {
      this.#insert(time, key);
      return;
    }
    // A new sequence number, as if pushed now: the order is that of a fresh entry.
    const earlier = time < this.#time[at];
    this.#time[at] = time;
    this.#seq[at] = this.#nextSeq++;
    if (earlier) this.#up(at);
    else this.#down(at);
  }

  /**
   * Removes the earliest entry and returns a key (< keys) or its event; sets `time`.
   * Undefined when empty.
   */
  pop(): number | E | undefined {
    if (this.#size === 0) return undefined;
    const ref = this.#ref[0];
    this.time = this.#time[0];
    this.#removeTop();
    if (ref < this.keys) {
      this.#pos[ref] = -1;
      return ref;
    }
    const index = ref - this.keys;
    const item = this.#items[index]!;
    this.#items[index] = undefined;
    this.#free.push(index);
    return item;
  }

  #insert(time: number, ref: number): void {
    if (this.#size === this.#time.length) this.#grow();
    const at = this.#size++;
    this.#time[at] = time;
    this.#seq[at] = this.#nextSeq++;
    this.#ref[at] = ref;
    if (ref < this.keys) this.#pos[ref] = at;
    this.#up(at);
  }

  #removeTop(): void {
    const last = --this.#size;
    if (last === 0) return;
    this.#move(last, 0);
    this.#down(0);
  }

  #before(i: number, j: number): boolean {
    const ti = this.#time[i], tj = this.#time[j];
    return ti < tj || (ti === tj && this.#seq[i] < this.#seq[j]);
  }

  #move(from: number, to: number): void {
    this.#time[to] = this.#time[from];
    this.#seq[to] = this.#seq[from];
    const ref = this.#ref[from];
    this.#ref[to] = ref;
    if (ref < this.keys) this.#pos[ref] = to;
  }

  #swap(i: number, j: number): void {
    const t = this.#time[i], s = this.#seq[i], r = this.#ref[i];
    this.#move(j, i);
    this.#time[j] = t;
    this.#seq[j] = s;
    this.#ref[j] = r;
    if (r < this.keys) this.#pos[r] = j;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#size;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < n && this.#before(l, m)) m = l;
      if (r < n && this.#before(r, m)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #grow(): void {
    const size = this.#time.length * 2;
    const time = new Float64Array(size), seq = new Float64Array(size), ref = new Int32Array(size);
    time.set(this.#time);
    seq.set(this.#seq);
    ref.set(this.#ref);
    this.#time = time;
    this.#seq = seq;
    this.#ref = ref;
  }
}
