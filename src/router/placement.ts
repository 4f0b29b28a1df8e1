/**
 * Placement: the core decides and the load book accounts the dispatch. A request that does not
 * fit now waits in the router's bounded queue (wait_queue.ts: whatever fits is placed when
 * capacity frees, so no request holds up others) for at most `queueTimeoutMs`, then is shed
 * with 503 + Retry-After. With no healthy engine left it is shed at once, waiting or not.
 */
import { errorResponse } from "../openai/errors.ts";
import { count, gone, type RouterContext } from "./context.ts";
import { newDecision } from "../core/request.ts";
import type { Flight } from "./flight.ts";
import type { Routed } from "./load_book.ts";

export const SHED_REASONS = ["queue_full", "queue_timeout", "no_healthy_engine"] as const;
export type ShedReason = typeof SHED_REASONS[number];

/** True when some engine that can decode is healthy. */
export function anyHealthy(ctx: RouterContext): boolean {
  return ctx.endpoints.some((e) => e.healthy && e.role !== "prefill");
}

/** Decides and accounts `f`, waiting at the router for capacity; a Response means shed. */
export async function place(ctx: RouterContext, f: Flight): Promise<Routed | Response> {
  const limits = ctx.config.limits;
  if (!anyHealthy(ctx)) return shed(ctx, f, "no_healthy_engine");
  // A newcomer that fits goes now: waiters had their turn when capacity last freed.
  const now = decide(ctx, f);
  if (now) return now;
  if (ctx.queue.length >= limits.maxQueued) return shed(ctx, f, "queue_full");
  const queuedAt = ctx.now();
  const deadline = queuedAt + limits.queueTimeoutMs;
  const size = f.promptTokens + ctx.book.outputEstimate(f.maxTokens);
  let placed: Routed | null = null;
  while (true) {
    const left = deadline - ctx.now();
    if (left <= 0) return shed(ctx, f, "queue_timeout");
    await ctx.queue.wait(f.signal, left, size, () => (placed = decide(ctx, f)) !== null);
    if (placed) {
      f.queueMs += ctx.now() - queuedAt;
      return placed;
    }
    if (gone(ctx, f)) {
      count(ctx, null, "cancelled");
      return errorResponse(499, "client closed request", "server_error");
    }
    if (!anyHealthy(ctx)) return shed(ctx, f, "no_healthy_engine");
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

function shed(ctx: RouterContext, f: Flight, reason: ShedReason): Response {
  ctx.metrics.sheds.inc({ reason });
  count(ctx, null, "shed");
  const why = reason === "no_healthy_engine"
    ? "every engine is unhealthy"
    : "every eligible engine is at capacity";
  const detail = reason === "queue_full"
    ? "router queue full"
    : reason === "queue_timeout"
    ? `waited ${Math.round(ctx.now() - f.arrival)} ms`
    : "no engine to wait for";
  const retryAfter = ctx.config.limits.retryAfterSeconds;
  return errorResponse(
    503,
    `pdroute: ${why} (${detail}); retry after ${retryAfter} s`,
    "overloaded_error",
    { headers: { "retry-after": String(retryAfter) } },
  );
}
