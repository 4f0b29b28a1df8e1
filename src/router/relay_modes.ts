/**
 * How an engine's answer reaches the client, once the router has it: an engine's 4xx as it
 * is; a JSON answer read whole (so always retryable before this point); an SSE stream through
 * the inspecting relay (relay_stream.ts), which measures TTFT and TPOT; or the passthrough
 * relay. Each accounts the request's end in the load book and the metrics.
 */
import { count, finishFlight, release, type RouterContext } from "./context.ts";
import type { Endpoint } from "./endpoint.ts";
import { AttemptFailed, type Flight, type Reply, type Served } from "./flight.ts";
import type { Outcome } from "./router_metrics.ts";
import { relayStream } from "./relay_stream.ts";

/** An engine refused the request (4xx): relay its answer as it is. */
export function relayError(ctx: RouterContext, f: Flight, e: Endpoint, res: Reply): Served {
  ctx.health.succeeded(e);
  release(ctx, f);
  count(ctx, e, "client_error");
  return { response: bufferedAnswer(f, res), handedOff: false };
}

/** A whole (non-streamed) answer: its usage is the output length. */
export function relayJson(
  ctx: RouterContext,
  f: Flight,
  d: Endpoint,
  res: Reply,
): Served | AttemptFailed {
  let tokens = 0;
  let cached: unknown;
  try {
    const json = JSON.parse(res.text) as {
      usage?: { completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: unknown } };
    };
    tokens = json.usage?.completion_tokens ?? 0;
    cached = json.usage?.prompt_tokens_details?.cached_tokens;
  } catch (err) {
    return new AttemptFailed(d, `answer unreadable: ${(err as Error).message}`);
  }
  const r = f.routed!;
  // Prefilled here (not disaggregated): the engine's cached tokens check the decision's.
  if (!r.decision.disaggregated && typeof cached === "number") {
    ctx.metrics.prefixAccuracy(
      d.url,
      Math.max(0, f.promptTokens - r.decision.uncachedTokens),
      cached,
    );
  }
  ctx.health.succeeded(d);
  ctx.book.prefillDone(r, f.blocks);
  ctx.book.finished(r, tokens, NaN, ctx.now());
  release(ctx, f);
  count(ctx, d, "ok");
  return { response: bufferedAnswer(f, res), handedOff: false };
}

/** The inspecting stream relay: TTFT at the first chunk, TPOT and the outcome at its end. */
export function relaySse(ctx: RouterContext, f: Flight, d: Endpoint, res: Reply): Served {
  const { reader, first } = res.stream!;
  const r = f.routed!;
  const tFirst = ctx.now();
  const ttft = tFirst - f.arrival;
  ctx.health.succeeded(d);
  ctx.book.prefillDone(r, f.blocks);
  ctx.book.firstToken(r, tFirst);
  const prefillUrl = ctx.endpoints[r.decision.prefill].url;
  ctx.metrics.ttft.observe({ endpoint: prefillUrl }, ttft / 1000);
  const body = relayStream(first, reader, {
    url: d.url,
    abort: f.abort!,
    timeoutMs: Math.max(0, ctx.config.limits.requestTimeoutMs - ttft),
    onEnd: (outcome, failure, scan) => {
      const now = ctx.now();
      // Data events: one per token (chat adds an opening role chunk, usage a last one).
      const tokens = Math.max(1, scan.events);
      const tpot = tokens > 1 ? (now - tFirst) / (tokens - 1) : NaN;
      if (outcome === "ok") {
        ctx.book.finished(r, tokens, tpot, now);
        if (tokens > 1) ctx.metrics.tpot.observe({ endpoint: d.url }, tpot / 1000);
      }
      if (failure !== null) ctx.health.failed(d, failure);
      release(ctx, f);
      count(ctx, d, outcome);
      finishFlight(ctx, f);
    },
  });
  return { response: new Response(body, streamInit(f, res)), handedOff: true };
}

/**
 * The passthrough relay (`relay: "passthrough"`): the engine's body goes to the client as
 * it is, piped by the runtime without passing through JavaScript chunk by chunk (about a
 * third of the CPU per token of the JavaScript relay). The price: headers go out when the
 * engine's do (vLLM sends them on accept), so only failures before that are retried; a stream
 * cut later reaches the client as a broken connection rather than an SSE error event; and the
 * router measures no TTFT/TPOT itself (the scraped engine histograms stand in).
 */
export function passthrough(ctx: RouterContext, f: Flight, d: Endpoint, res: Reply): Served {
  const r = f.routed!;
  ctx.health.succeeded(d);
  // Prefill progress is not visible: its tokens leave the queue now; scraping corrects it.
  ctx.book.prefillDone(r, f.blocks);
  const abort = f.abort!;
  const overall = setTimeout(
    () => abort.abort(new Error("request timeout")),
    Math.max(0, ctx.config.limits.requestTimeoutMs - (ctx.now() - f.arrival)),
  );
  let ended = false;
  const end = (outcome: Outcome) => {
    if (ended) return;
    ended = true;
    clearTimeout(overall);
    release(ctx, f);
    count(ctx, d, outcome);
    finishFlight(ctx, f);
  };
  if (f.completed) {
    // A rejection is a client that left or an engine stream that broke: not told apart here.
    f.completed.then(() => end("ok"), () => end("cancelled"));
  } else {
    queueMicrotask(() => end("ok"));
  }
  return { response: new Response(res.body, streamInit(f, res)), handedOff: true };
}

function streamInit(f: Flight, res: Reply): ResponseInit {
  const headers = new Headers(routeHeaders(f));
  headers.set("content-type", res.headers.get("content-type") ?? "text/event-stream");
  headers.set("cache-control", "no-cache");
  return { status: res.status, headers };
}

/** An engine's whole (non-streamed) answer, passed on with the router's headers. */
function bufferedAnswer(f: Flight, res: Reply): Response {
  return new Response(res.text, {
    status: res.status,
    headers: {
      "content-type": res.headers.get("content-type") ?? "application/json",
      ...routeHeaders(f),
    },
  });
}

/** Where the request ran, for clients that care (pdroute drive reads these). */
function routeHeaders(f: Flight): Record<string, string> {
  const r = f.routed;
  const headers: Record<string, string> = {
    "x-request-id": f.id,
    "x-pdroute-prefill": String(r?.decision.prefill ?? -1),
    "x-pdroute-decode": String(r?.decode ?? -1),
    "x-pdroute-queue-ms": f.queueMs.toFixed(3),
    "x-pdroute-migrations": String(f.migrations),
  };
  // The decode engine's usage cannot know what the prefill engine found in its cache.
  if (f.prefillCached !== null) headers["x-pdroute-cached-tokens"] = String(f.prefillCached);
  return headers;
}
