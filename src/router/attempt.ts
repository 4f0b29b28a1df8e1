/**
 * One attempt at serving a placed request. Disaggregated: the NixlConnector handoff
 * (handoff.ts), a prefill request, then the decode request carrying the prefill's
 * kv_transfer_params; local: the request as is. A streaming, disaggregated request is movable
 * (registered with the core's migration planner) from its decode call until the first chunk;
 * a move aborts the call and the same decode request goes to the new engine.
 */
import type { RouterContext } from "./context.ts";
import { AttemptFailed, type Flight, type Served } from "./flight.ts";
import { decodeBody, prefillBody, transferParamsOf } from "./handoff.ts";
import type { Routed } from "./load_book.ts";
import { passthrough, relayError, relayJson, relaySse } from "./relay_modes.ts";
import { callEngine } from "./upstream.ts";

export async function attempt(
  ctx: RouterContext,
  f: Flight,
  routed: Routed,
): Promise<Served | AttemptFailed> {
  const d0 = routed.decision;
  const limits = ctx.config.limits;
  let body: Record<string, unknown> = f.body;
  if (d0.disaggregated) {
    const p = ctx.endpoints[d0.prefill];
    const res = await callEngine(ctx, f, p, prefillBody(f.body), limits.firstByteTimeoutMs);
    if (res instanceof AttemptFailed) return res;
    if (res.status >= 400) return relayError(ctx, f, p, res);
    let answer: unknown;
    try {
      answer = JSON.parse(res.text);
    } catch (e) {
      return new AttemptFailed(p, `prefill answer unreadable: ${(e as Error).message}`);
    }
    const params = transferParamsOf(answer);
    if (typeof params === "string") return new AttemptFailed(p, params);
    const cached = (answer as { usage?: { prompt_tokens_details?: { cached_tokens?: unknown } } })
      .usage?.prompt_tokens_details?.cached_tokens;
    f.prefillCached = typeof cached === "number" ? cached : null;
    if (f.prefillCached !== null) {
      const predicted = f.promptTokens - routed.decision.uncachedTokens;
      ctx.metrics.prefixAccuracy(p.url, Math.max(0, predicted), f.prefillCached);
    }
    ctx.health.succeeded(p);
    ctx.book.prefillDone(routed, f.blocks);
    body = decodeBody(f.body, params);
  }
  if (f.stream && d0.disaggregated && ctx.core.migrates) {
    ctx.book.openSlot(routed, ctx.book.outputEstimate(f.maxTokens));
    if (routed.slot >= 0) ctx.movable.set(routed.slot, f);
  }
  try {
    while (true) {
      const d = ctx.endpoints[routed.decode];
      // A JSON answer arrives whole: its first byte is its last.
      const timeout = f.stream
        ? limits.firstByteTimeoutMs
        : limits.responseTimeoutMs ?? limits.firstByteTimeoutMs;
      const res = await callEngine(ctx, f, d, body, timeout, f.stream);
      if (f.moving) {
        // A migration aborted this call: send the same decode request to the new engine.
        f.moving = false;
        if (!(res instanceof AttemptFailed)) await res.stream?.reader.cancel().catch(() => {});
        continue;
      }
      if (res instanceof AttemptFailed) return res;
      if (res.status >= 400) return relayError(ctx, f, d, res);
      if (!f.stream) return relayJson(ctx, f, d, res);
      return res.body ? passthrough(ctx, f, d, res) : relaySse(ctx, f, d, res);
    }
  } finally {
    if (routed.slot >= 0) ctx.movable.delete(routed.slot);
    ctx.book.closeSlot(routed);
  }
}
