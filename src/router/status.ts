/** `/router/status`: what the router believes about each endpoint, as JSON. */
import type { RouterContext } from "./context.ts";

/** What the router believes about each endpoint (for people, tests and `pdroute drive`). */
export function routerStatus(ctx: RouterContext) {
  const s = ctx.core.state;
  const book = ctx.book;
  const now = ctx.now();
  return {
    policy: ctx.core.config.policy,
    relay: ctx.config.relay,
    disaggregation: ctx.core.config.disaggregation,
    implementation: ctx.core.kind,
    queueDepth: ctx.queue.length,
    inFlight: ctx.flights.size,
    sync: ctx.sync?.status() ?? null,
    /** The router process's memory (bytes): RSS, and the JS heap in use and reserved. */
    memory: memoryOf(Deno.memoryUsage()),
    endpoints: ctx.endpoints.map((e) => ({
      index: e.index,
      url: e.url,
      role: e.role,
      pool: e.pool,
      gpu: e.gpu,
      healthy: e.healthy,
      reason: e.reason,
      load: {
        queuedPrefillTokens: s.queuedPrefill[e.index],
        activeSeqs: s.activeSeqs[e.index],
        activeKvBlocks: s.activeKv[e.index],
      },
      own: book.own[e.index],
      peers: book.peers[e.index],
      external: book.external[e.index],
      telemetryAgeMs: Number.isFinite(book.scrapedAt[e.index])
        ? Math.round(now - book.scrapedAt[e.index])
        : null,
      scrapeError: ctx.scraper.errors[e.index],
      prefixHitRate: ctx.scraper.latest[e.index]?.prefixHitRate ?? null,
      // What the predictive policy prices from measurements (docs/POLICY.md, "Predicted
      // times"): observed/predicted ratios, 0 before the first observation.
      observed: {
        ttftRatio: s.ttftObs[e.index],
        tpotRatio: s.tpotObs[e.index],
        ttftAgeMs: s.ttftObs[e.index] > 0 ? Math.round(now - s.ttftObsAt[e.index]) : null,
        tpotAgeMs: s.tpotObs[e.index] > 0 ? Math.round(now - s.tpotObsAt[e.index]) : null,
      },
    })),
  };
}

function memoryOf(m: Deno.MemoryUsage) {
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}
