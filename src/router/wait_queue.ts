/**
 * The router's queue of requests waiting for capacity. When capacity may have freed (`admit`:
 * a request left an engine, a scrape, an engine came back), waiters are offered it in arrival
 * order, and every one that fits now is placed then and there, so a request that cannot be
 * placed (too big for what is free) never holds up smaller ones behind it: no head-of-line
 * blocking. To keep a scan cheap with a long queue, a waiter at least as large as one that
 * just failed is not tried in the same scan, and a scan makes at most `MAX_TRIES` attempts.
 * A waiter also leaves when its time is up, its client goes away, or `wakeAll` (shutdown, no
 * healthy engine): it then decides itself what to do.
 */

/** Most placement attempts one scan makes. */
export const MAX_TRIES = 64;

export type WaitOutcome = "placed" | "woken";

interface Waiter {
  /** What the request needs (prompt + output tokens): the scan's size order. */
  readonly size: number;
  /** Tries to place the request now; true if it was placed. */
  readonly place: () => boolean;
  leave(outcome: WaitOutcome): void;
}

export class WaitQueue {
  readonly #waiters: Waiter[] = [];
  #scanning = false;
  #again = false;

  get length(): number {
    return this.#waiters.length;
  }

  /**
   * Waits until `place` succeeds in a scan ("placed"), or `ms` pass, `signal` aborts or
   * `wakeAll` is called ("woken").
   */
  wait(signal: AbortSignal, ms: number, size: number, place: () => boolean): Promise<WaitOutcome> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        size,
        place,
        leave: (outcome) => {
          clearTimeout(timer);
          signal.removeEventListener("abort", woken);
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          resolve(outcome);
        },
      };
      const woken = () => waiter.leave("woken");
      const timer = setTimeout(woken, ms);
      signal.addEventListener("abort", woken, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Capacity may have freed: place every waiter that fits now, oldest first. */
  admit(): void {
    if (this.#scanning) {
      this.#again = true;
      return;
    }
    this.#scanning = true;
    try {
      do {
        this.#again = false;
        this.#scan();
      } while (this.#again);
    } finally {
      this.#scanning = false;
    }
  }

  #scan(): void {
    let smallestFailed = Infinity;
    let tries = 0;
    for (const w of [...this.#waiters]) {
      if (tries >= MAX_TRIES) break;
      if (w.size >= smallestFailed) continue;
      tries++;
      if (w.place()) w.leave("placed");
      else smallestFailed = w.size;
    }
  }

  wakeAll(): void {
    for (const w of [...this.#waiters]) w.leave("woken");
  }
}
