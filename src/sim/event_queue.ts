/**
 * The discrete-event queue: a binary min-heap on (time, insertion order). Insertion order
 * breaks time ties, so equal-time events run in the order they were scheduled and the whole
 * simulation is deterministic.
 */
export interface SimEvent {
  readonly time: number;
  readonly seq: number;
}

export class EventQueue<E extends SimEvent> {
  readonly #heap: E[] = [];
  #nextSeq = 0;

  get size(): number {
    return this.#heap.length;
  }

  /** The sequence number the next pushed event must carry. */
  nextSeq(): number {
    return this.#nextSeq++;
  }

  push(event: E): void {
    const h = this.#heap;
    h.push(event);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  peek(): E | undefined {
    return this.#heap[0];
  }

  pop(): E | undefined {
    const h = this.#heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
