/**
 * Endpoint health. Any failure on the request path (connection error, timeout, 5xx, a stream
 * cut off) counts against an endpoint; `unhealthyAfter` consecutive failures take it out of
 * routing (core `healthy: false`). A periodic `/health` probe of every endpoint brings an
 * unhealthy one back when it answers 200 (with its prefix index forgotten: a restarted engine
 * has a cold cache), and counts a failed probe against a healthy one, so a dead engine is
 * noticed without waiting for traffic to hit it.
 */
import type { Endpoint } from "./endpoint.ts";
import type { LoadBook } from "./load_book.ts";

export class Health {
  constructor(
    private readonly endpoints: readonly Endpoint[],
    private readonly book: LoadBook,
    private readonly unhealthyAfter: number,
    private readonly probeTimeoutMs: number,
    /** Called when an endpoint comes back (capacity appeared). */
    private readonly onRecovered: (e: Endpoint) => void,
    /** Called when an endpoint is taken out (its pending calls should move elsewhere). */
    private readonly onUnhealthy: (e: Endpoint) => void = () => {},
  ) {}

  failed(e: Endpoint, reason: string): void {
    e.failures++;
    if (!e.healthy || e.failures < this.unhealthyAfter) return;
    e.healthy = false;
    e.reason = reason;
    this.book.core.setLoad(e.index, { healthy: false });
    console.error(`pdroute serve: endpoint ${e.url} marked unhealthy: ${reason}`);
    this.onUnhealthy(e);
  }

  succeeded(e: Endpoint): void {
    e.failures = 0;
  }

  async probeAll(signal: AbortSignal): Promise<void> {
    await Promise.all(this.endpoints.map((e) => this.probe(e, signal)));
  }

  async probe(e: Endpoint, signal: AbortSignal): Promise<void> {
    let ok = false;
    let why = "";
    try {
      const res = await fetch(`${e.url}/health`, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.probeTimeoutMs)]),
      });
      await res.body?.cancel();
      ok = res.status === 200;
      why = `GET /health answered ${res.status}`;
    } catch (err) {
      if (signal.aborted) return;
      why = `GET /health failed: ${(err as Error).message}`;
    }
    if (ok && !e.healthy) {
      e.healthy = true;
      e.failures = 0;
      e.reason = "";
      this.book.prefixes.forget(e.index);
      this.book.core.setLoad(e.index, { healthy: true });
      console.error(`pdroute serve: endpoint ${e.url} is healthy again`);
      this.onRecovered(e);
    } else if (!ok && e.healthy) {
      this.failed(e, why);
    }
  }
}
