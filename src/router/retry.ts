/**
 * The retry loop: place, attempt, and on a failure before anything reached the client, count
 * it against the engine and place again, up to `maxAttempts` and within `requestTimeoutMs`;
 * then 504 (the last failure was a timeout) or 502.
 */
import { errorResponse } from "../openai/errors.ts";
import { count, gone, release, type RouterContext } from "./context.ts";
import { AttemptFailed, type Flight, type Served } from "./flight.ts";
import { attempt } from "./attempt.ts";
import { place } from "./placement.ts";

/** Routes and relays `f`. */
export async function serveFlight(ctx: RouterContext, f: Flight): Promise<Served> {
  const c = ctx.config.limits;
  let last: AttemptFailed | null = null;
  for (let n = 1; n <= c.maxAttempts; n++) {
    const placed = await place(ctx, f);
    if (placed instanceof Response) return { response: placed, handedOff: false };
    const result = await attempt(ctx, f, placed);
    if (!(result instanceof AttemptFailed)) return result;
    last = result;
    release(ctx, f);
    ctx.metrics.retries.inc({
      endpoint: result.endpoint.url,
      reason: result.timeout ? "timeout" : "error",
    });
    if (gone(ctx, f)) {
      count(ctx, null, "cancelled");
      return {
        response: errorResponse(499, "client closed request", "server_error"),
        handedOff: false,
      };
    }
    ctx.health.failed(result.endpoint, result.reason);
    if (ctx.now() - f.arrival > c.requestTimeoutMs) break;
  }
  count(ctx, last?.endpoint ?? null, "failed");
  return {
    response: errorResponse(
      last?.timeout ? 504 : 502,
      `no engine could serve the request (${c.maxAttempts} attempt(s)); last failure: ${last?.endpoint.url}: ${last?.reason}`,
      "upstream_error",
    ),
    handedOff: false,
  };
}
