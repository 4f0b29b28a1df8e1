/**
 * The inspecting stream relay: the client's body is the engine's SSE stream, chunk by chunk as
 * it arrives (no buffering), watched by `SseScan`. A stream that ends without `data: [DONE]`,
 * or breaks, is ended for the client with an SSE error event and `data: [DONE]` (output has
 * already reached the client, so there is nothing to retry); `onEnd` reports how it ended,
 * exactly once, with the reason when the engine is to blame.
 */
import { sseErrorEvent } from "../openai/errors.ts";
import { SSE_DONE } from "../openai/sse.ts";
import type { Outcome } from "./router_metrics.ts";
import { SseScan } from "./sse_scan.ts";

const encoder = new TextEncoder();

export interface RelayOptions {
  /** The engine, for error messages. */
  readonly url: string;
  /** Aborts the engine call (client gone, timeout). */
  readonly abort: AbortController;
  /** Wall ms the rest of the stream may take. */
  readonly timeoutMs: number;
  /** How the relay ended; `failure` names the engine's fault, null when not its fault. */
  readonly onEnd: (outcome: Outcome, failure: string | null, scan: SseScan) => void;
}

export function relayStream(
  first: Uint8Array,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  o: RelayOptions,
): ReadableStream<Uint8Array> {
  const scan = new SseScan();
  scan.push(first);
  let ended = false;
  const end = (outcome: Outcome, failure: string | null) => {
    clearTimeout(timer);
    if (ended) return;
    ended = true;
    o.onEnd(outcome, failure, scan);
  };
  const timer = setTimeout(() => o.abort.abort(new Error("request timeout")), o.timeoutMs);
  const fail = (c: ReadableStreamDefaultController<Uint8Array>, why: string) =>
    c.enqueue(encoder.encode(sseErrorEvent(why, "upstream_error", 502) + SSE_DONE));
  return new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(first);
    },
    async pull(c) {
      try {
        const { value, done } = await reader.read();
        if (!done) {
          scan.push(value);
          c.enqueue(value);
          return;
        }
        if (scan.done) {
          end("ok", null);
        } else {
          const why = `the stream from ${o.url} ended without [DONE] (cut off)`;
          fail(c, why);
          end("upstream_error", why);
        }
        c.close();
      } catch (err) {
        const why = `the stream from ${o.url} failed after output began: ${(err as Error).message}`;
        fail(c, why);
        // Aborted by us (timeout, shutdown): not the engine's fault.
        end("upstream_error", o.abort.signal.aborted ? null : why);
        c.close();
      }
    },
    cancel() {
      o.abort.abort(new Error("client went away"));
      void reader.cancel().catch(() => {});
      end("cancelled", null);
    },
  });
}
