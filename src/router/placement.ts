/**
 * Placement: the core decides and the load book accounts the dispatch; with no capacity the
 * request waits in the router's bounded FIFO for at most `queueTimeoutMs`, then is shed with
 * 503 + Retry-After.
 */
import { errorResponse } from "../openai/errors.ts";
import { count, gone, type RouterContext, wakeQueue } from "./context.ts";
import { newDecision } from "../core/request.ts";
import type { Flight } from "./flight.ts";
import type { Routed } from "./load_book.ts";

/** Decides and accounts `f`, waiting at the router for capacity; a Response means shed. */
export async function place(ctx: RouterContext, f: Flight): Promise<Routed | Response> {
  const limits = ctx.config.limits;
  const queuedAt = ctx.now();
  // Requests already waiting go first (FIFO): a newcomer joins the queue behind them.
  if (ctx.queue.length === 0) {
    const r = decide(ctx, f);
    if (r) return r;
  }
  const deadline = queuedAt + limits.queueTimeoutMs;
  while (true) {
    if (ctx.queue.length >= limits.maxQueued) return shed(ctx, f, "queue_full");
    const left = deadline - ctx.now();
    if (left <= 0) return shed(ctx, f, "queue_timeout");
    await ctx.queue.wait(f.signal, left);
    if (gone(ctx, f)) {
      count(ctx, null, "cancelled");
      return errorResponse(499, "client closed request", "server_error");
    }
    const r = decide(ctx, f);
    if (r) {
      f.queueMs += ctx.now() - queuedAt;
      wakeQueue(ctx); // the next in line may fit too
      return r;
    }
  }
}

function decide(ctx: RouterContext, f: Flight): Routed | null {
  const t0 = performance.now();
  ctx.kv?.sync();
  const decision = ctx.core.route(
    {
      promptTokens: f.promptTokens,
      outputTokens: ctx.book.outputEstimate(f.maxTokens),
      prefixBlocks: f.blocks,
    },
    ctx.now(),
    ctx.rng.u32(),
    ctx.spare,
  );
  const policy = ctx.core.config.policy;
  if (decision.status !== "ok") {
    ctx.metrics.decisions.inc({ policy, path: "no_capacity" });
    return null;
  }
  ctx.spare = newDecision(); // the routed request keeps this decision
  const routed = ctx.book.dispatch(decision, ctx.now());
  ctx.metrics.decisionSeconds.observe((performance.now() - t0) / 1000);
  ctx.metrics.decisions.inc({
    policy,
    path: decision.disaggregated ? "disaggregated" : "local",
  });
  f.routed = routed;
  return routed;
}

function shed(ctx: RouterContext, f: Flight, reason: "queue_full" | "queue_timeout"): Response {
  ctx.metrics.sheds.inc({ reason });
  count(ctx, null, "shed");
  const healthy = ctx.endpoints.filter((e) => e.healthy).length;
  const why = healthy === 0 ? "every engine is unhealthy" : "every eligible engine is at capacity";
  const waited = Math.round(ctx.now() - f.arrival);
  const retryAfter = ctx.config.limits.retryAfterSeconds;
  return errorResponse(
    503,
    `pdroute: ${why} (${reason === "queue_full" ? "router queue full" : `waited ${waited} ms`});` +
      ` retry after ${retryAfter} s`,
    "overloaded_error",
    { headers: { "retry-after": String(retryAfter) } },
  );
}
