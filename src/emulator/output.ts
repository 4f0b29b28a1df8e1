/**
 * Output: streaming each step's tokens to live SSE clients, the whole JSON answer at the end,
 * and every way a request ends (done, failed with a readable error, broken connection, client
 * gone), with vLLM's token and latency metrics on the way.
 */
import { errorResponse, sseErrorEvent } from "../openai/errors.ts";
import { SSE_DONE } from "../openai/sse.ts";
import { unpark, unreserve } from "./kv_handoff.ts";
import { brokenResponse, EmulatedFault, type Live } from "./live.ts";
import { completeResponse, usage } from "./responses.ts";
import type { EmulatorState } from "./state.ts";

const encoder = new TextEncoder();

/** Streams the tokens every live request generated since the last flush. */
export function flush(s: EmulatorState): void {
  if (s.parked.length > 0) unpark(s);
  const clock = s.engine.tokenClock;
  for (const live of s.live.values()) {
    if (live.mode !== "stream" || live.done) continue;
    const job = live.job;
    const generated = job.heapIndex >= 0 ? job.generated + clock - job.joinClock : job.generated;
    if (generated > live.sent) streamTokens(s, live, generated);
  }
}

export function streamTokens(s: EmulatorState, live: Live, upTo: number): void {
  const w = live.writer!;
  const total = live.job.request.outputTokens;
  let out = live.sent === 0 ? w.opening() : "";
  const end = Math.min(upTo, live.truncateAfter);
  for (let i = live.sent; i < end; i++) out += w.token(i, i === total - 1);
  const fresh = end - live.sent;
  if (out !== "") write(live, out, false);
  noteTokens(s, live, fresh);
  if (upTo > live.truncateAfter) {
    // Truncation fault: the connection drops mid-answer, no [DONE].
    breakLive(s, live);
  }
}

/** The stream's last tokens, its usage chunk if asked for, and [DONE]. */
export function finishStream(s: EmulatorState, live: Live): void {
  const job = live.job;
  streamTokens(s, live, job.request.outputTokens);
  if (live.done) return; // truncated
  const w = live.writer!;
  let tail = "";
  if (w.includeUsage) tail += w.usage(usage(job.request.promptTokens, live.sent, job.cachedTokens));
  tail += SSE_DONE;
  write(live, tail, true);
  done(s, live, "length");
}

/** Writes to a live stream; a client that already went away is not an error here. */
function write(live: Live, text: string, close: boolean): void {
  try {
    live.controller!.enqueue(encoder.encode(text));
    if (close) live.controller!.close();
  } catch {
    // The stream was cancelled between the client leaving and its cancel callback.
  }
}

export function noteTokens(s: EmulatorState, live: Live, fresh: number): void {
  if (fresh <= 0) return;
  const m = s.metrics;
  const now = performance.now();
  if (live.sent === 0) {
    live.firstWall = now;
    m.ttft.observe(m.labels, (now - live.arrivalWall) / 1000);
    if (fresh > 1) m.itl.observe(m.labels, 0);
  } else {
    const gap = (now - live.lastWall) / fresh / 1000;
    for (let i = 0; i < fresh; i++) m.itl.observe(m.labels, gap);
  }
  m.generationTokens.inc(m.labels, fresh);
  live.sent += fresh;
  live.lastWall = now;
}

export function finishJson(
  s: EmulatorState,
  live: Live,
  tokens: number,
  kv: Record<string, unknown> | null,
): void {
  const job = live.job;
  const u = usage(job.request.promptTokens, tokens, job.cachedTokens);
  const body = completeResponse(
    live.api,
    live.id,
    Math.floor(Date.now() / 1000),
    s.options.servedModelName,
    tokens,
    u,
    kv,
  );
  let response: Response;
  if (live.truncateAfter !== Infinity) {
    // Truncation fault: half the JSON, then the connection drops.
    const text = JSON.stringify(body);
    response = new Response(
      new ReadableStream({
        start: (c) => {
          c.enqueue(encoder.encode(text.slice(0, Math.floor(text.length / 2))));
          c.error(new EmulatedFault("emulated truncation"));
        },
      }),
      { headers: { "content-type": "application/json" } },
    );
  } else {
    response = Response.json(body);
  }
  live.resolve!(response);
  done(s, live, "length");
}

function done(s: EmulatorState, live: Live, reason: string | null): void {
  live.done = true;
  s.live.delete(live.job);
  if (live.transferTimer !== undefined) clearTimeout(live.transferTimer);
  unreserve(s, live);
  if (reason !== null) {
    const m = s.metrics;
    m.success.inc({ ...m.labels, finished_reason: reason });
    m.e2e.observe(m.labels, (performance.now() - live.arrivalWall) / 1000);
  }
}

/** Ends `live` with an error the client can read (an SSE error event or error JSON). */
export function failLive(s: EmulatorState, live: Live, message: string): void {
  if (live.done) return;
  abortJob(s, live);
  if (live.controller) {
    write(live, sseErrorEvent(message, "server_error") + SSE_DONE, true);
  } else {
    live.resolve?.(errorResponse(500, message, "server_error"));
  }
  done(s, live, null);
}

/** Ends `live` by breaking the connection (crash and truncation faults). */
export function breakLive(s: EmulatorState, live: Live): void {
  if (live.done) return;
  abortJob(s, live);
  if (live.controller) {
    try {
      live.controller.error(new EmulatedFault("emulated connection drop"));
    } catch {
      // the client had already gone
    }
  } else live.resolve?.(brokenResponse());
  done(s, live, null);
}

/**
 * The client went away. A JSON request's handler is still waiting on its answer: it is settled
 * (with a broken body nobody reads), or the HTTP server would wait on it forever at shutdown.
 */
export function abandon(s: EmulatorState, live: Live): void {
  if (live.done) return;
  abortJob(s, live);
  live.resolve?.(brokenResponse());
  done(s, live, null);
}

function abortJob(s: EmulatorState, live: Live): void {
  if (live.transferTimer !== undefined) clearTimeout(live.transferTimer);
  if (s.dead) return;
  s.engine.abort(live.job, s.catchUp());
}

/** Ends everything inside the emulator: with `message`, or (null) by breaking connections. */
export function endAll(s: EmulatorState, message: string | null): void {
  s.driver.close();
  for (const live of [...s.live.values()]) {
    if (message === null) breakLive(s, live);
    else failLive(s, live, message);
  }
  for (const held of s.held.values()) clearTimeout(held.timer);
  s.held.clear();
  for (const release of s.stalled) release();
  s.stalled.clear();
}
