/**
 * Running decode sequences ordered by the decode step at which they finish (ties: admission
 * order), with O(log n) removal of any sequence for preemption and migration.
 */
export interface HeapItem {
  finishClock: number;
  admitOrder: number;
  heapIndex: number;
}

export class FinishHeap<T extends HeapItem> {
  readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.#up(item.heapIndex);
  }

  remove(item: T): void {
    const i = item.heapIndex;
    const last = this.items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.#up(i);
    this.#down(last.heapIndex);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top) this.remove(top);
    return top;
  }

  #less(a: T, b: T): boolean {
    return a.finishClock < b.finishClock ||
      (a.finishClock === b.finishClock && a.admitOrder < b.admitOrder);
  }

  #swap(i: number, j: number): void {
    const h = this.items;
    [h[i], h[j]] = [h[j], h[i]];
    h[i].heapIndex = i;
    h[j].heapIndex = j;
  }

  #up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(this.items[i], this.items[p])) return;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const h = this.items;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l], h[m])) m = l;
      if (r < h.length && this.#less(h[r], h[m])) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
