/**
 * HTTP dispatch: the completion routes go to intake; `/health`, `/v1/models`, `/metrics` and
 * `/router/status` are answered here; anything else is 404.
 */
import { errorResponse } from "../openai/errors.ts";
import type { RouterContext } from "./context.ts";
import { complete } from "./intake.ts";
import { modelList } from "./models.ts";

export async function dispatch(
  ctx: RouterContext,
  req: Request,
  completed: Promise<void> | null,
): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (req.method === "POST" && path === "/v1/completions") {
    return await complete(ctx, req, path, "completions", completed);
  }
  if (req.method === "POST" && path === "/v1/chat/completions") {
    return await complete(ctx, req, path, "chat", completed);
  }
  if (req.method === "GET") {
    if (path === "/health") {
      const any = ctx.endpoints.some((e) => e.healthy);
      return new Response(null, { status: any ? 200 : 503 });
    }
    if (path === "/v1/models") return Response.json(modelList(ctx));
    if (path === "/metrics") {
      return new Response(await ctx.metrics.text(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    if (path === "/router/status") return Response.json(routerStatus(ctx));
  }
  ctx.metrics.badRequests.inc({ status: "404" });
  return errorResponse(404, `no route for ${req.method} ${path}`, "not_found_error");
}

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
    })),
  };
}
