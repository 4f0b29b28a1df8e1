/**
 * Running decode sequences ordered by the decode step at which they finish (ties: admission
 * order), with O(log n) removal of any sequence for preemption and migration.
 *
 * The keys live in typed arrays beside the items, so ordering and `topFinishClock` read no
 * item objects (with thousands of engines those are rarely in cache); an item's own
 * `finishClock` and `admitOrder` must not change while it is in the heap.
 */
export interface HeapItem {
  finishClock: number;
  admitOrder: number;
  heapIndex: number;
}

export class FinishHeap<T extends HeapItem> {
  readonly items: T[] = [];
  #finish = new Float64Array(16);
  #order = new Float64Array(16);

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** The smallest finish clock (Infinity when empty). */
  get topFinishClock(): number {
    return this.items.length > 0 ? this.#finish[0] : Infinity;
  }

  push(item: T): void {
    const i = this.items.length;
    if (i === this.#finish.length) this.#grow();
    item.heapIndex = i;
    this.items.push(item);
    this.#finish[i] = item.finishClock;
    this.#order[i] = item.admitOrder;
    this.#up(i);
  }

  remove(item: T): void {
    const i = item.heapIndex;
    const lastAt = this.items.length - 1;
    const last = this.items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[i] = last;
    this.#finish[i] = this.#finish[lastAt];
    this.#order[i] = this.#order[lastAt];
    last.heapIndex = i;
    this.#up(i);
    this.#down(last.heapIndex);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top) this.remove(top);
    return top;
  }

  #less(i: number, j: number): boolean {
    const a = this.#finish[i], b = this.#finish[j];
    return a < b || (a === b && this.#order[i] < this.#order[j]);
  }

  #swap(i: number, j: number): void {
    const h = this.items, f = this.#finish, o = this.#order;
    const item = h[i];
    h[i] = h[j];
    h[j] = item;
    const fi = f[i];
    f[i] = f[j];
    f[j] = fi;
    const oi = o[i];
    o[i] = o[j];
    o[j] = oi;
    h[i].heapIndex = i;
    h[j].heapIndex = j;
  }

  #up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) return;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < n && this.#less(l, m)) m = l;
      if (r < n && this.#less(r, m)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #grow(): void {
    const finish = new Float64Array(this.#finish.length * 2);
    const order = new Float64Array(this.#order.length * 2);
    finish.set(this.#finish);
    order.set(this.#order);
    this.#finish = finish;
    this.#order = order;
  }
}
