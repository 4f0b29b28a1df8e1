/**
 * The router's FIFO of requests waiting for capacity. A waiter sleeps until it is woken (at
 * the head, when capacity may have freed), its time is up, or its client goes away; it then
 * leaves the queue and tries again (or gives up). Waking only the head keeps the order first
 * come, first served.
 */

interface Waiter {
  wake(): void;
}

export class WaitQueue {
  readonly #waiters: Waiter[] = [];

  get length(): number {
    return this.#waiters.length;
  }

  /** Resolves when woken, after `ms`, or when `signal` aborts. */
  wait(signal: AbortSignal, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        wake: () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", waiter.wake);
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, ms);
      signal.addEventListener("abort", waiter.wake, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Capacity may have freed: the head tries again. */
  wakeHead(): void {
    this.#waiters[0]?.wake();
  }

  wakeAll(): void {
    for (const w of [...this.#waiters]) w.wake();
  }
}
