/**
 * The upstream call: one POST to an engine, read within a time limit. The whole body for JSON
 * answers and errors; for a 2xx stream only the first chunk (so headers go to the client once
 * output exists), or nothing at all for the passthrough relay. The call is aborted by its
 * timer, by the client leaving, by shutdown, by a migration, or by its engine being marked
 * unhealthy meanwhile.
 */
import type { RouterContext } from "./context.ts";
import type { Endpoint } from "./endpoint.ts";
import { AttemptFailed, type Flight, type Reply, UnhealthyEndpoint } from "./flight.ts";

/**
 * POSTs `body` to `e` and reads its answer within `timeoutMs`. Connection errors, timeouts,
 * 5xx and streams that end before any output become `AttemptFailed`.
 */
export async function callEngine(
  ctx: RouterContext,
  f: Flight,
  e: Endpoint,
  body: Record<string, unknown>,
  timeoutMs: number,
  stream = false,
): Promise<Reply | AttemptFailed> {
  const abort = new AbortController();
  f.abort = abort;
  f.calling = e.index;
  const onClient = () => abort.abort(new Error("client went away"));
  f.signal.addEventListener("abort", onClient, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort(new Error(`no answer within ${timeoutMs} ms`));
  }, timeoutMs);
  try {
    const res = await fetch(`${e.url}${f.path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": f.id },
      body: body === f.body ? f.raw : JSON.stringify(body),
      signal: abort.signal,
    });
    if (res.status >= 500) {
      const detail = (await res.text().catch(() => "")).slice(0, 200);
      return new AttemptFailed(e, `HTTP ${res.status} from ${f.path}: ${detail}`);
    }
    if (!stream || res.status >= 400 || !res.body) {
      return {
        status: res.status,
        headers: res.headers,
        text: await res.text(),
        stream: null,
        body: null,
      };
    }
    if (ctx.config.relay === "passthrough") {
      return { status: res.status, headers: res.headers, text: "", stream: null, body: res.body };
    }
    const reader = res.body.getReader();
    const first = await reader.read();
    if (first.done) return new AttemptFailed(e, "the stream ended before any output");
    return {
      status: res.status,
      headers: res.headers,
      text: "",
      stream: { reader, first: first.value },
      body: null,
    };
  } catch (err) {
    if (timedOut) return new AttemptFailed(e, `no answer within ${timeoutMs} ms`, true);
    const reason = abort.signal.reason;
    if (reason instanceof UnhealthyEndpoint) return new AttemptFailed(e, reason.message);
    return new AttemptFailed(e, `${f.path} failed: ${(err as Error).message}`);
  } finally {
    f.calling = -1;
    clearTimeout(timer);
    f.signal.removeEventListener("abort", onClient);
  }
}
