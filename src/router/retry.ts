/**
 * The retry loop: place, attempt, and on a failure before anything reached the client, count
 * it against the engine and place again, up to `maxAttempts`, within `requestTimeoutMs` and
 * while some engine is healthy; then 504 (the last failure was a timeout) or 502.
 */
import { errorResponse } from "../openai/errors.ts";
import { count, gone, release, type RouterContext } from "./context.ts";
import { AttemptFailed, type Flight, type Served } from "./flight.ts";
import { attempt } from "./attempt.ts";
import { anyHealthy, place } from "./placement.ts";

/** Routes and relays `f`. */
export async function serveFlight(ctx: RouterContext, f: Flight): Promise<Served> {
  const c = ctx.config.limits;
  let last: AttemptFailed | null = null;
  let tried = 0;
  for (let n = 1; n <= c.maxAttempts; n++) {
    // A retry with every engine out: the failures say more than "no healthy engine" would.
    if (n > 1 && !anyHealthy(ctx)) break;
    const placed = await place(ctx, f);
    if (placed instanceof Response) return { response: placed, handedOff: false };
    tried++;
    const result = await attempt(ctx, f, placed);
    if (!(result instanceof AttemptFailed)) return result;
    last = result;
    release(ctx, f);
    if (gone(ctx, f)) {
      // Not the engine's failure: the client left (or the router stops) while it was served,
      // counted on its decode endpoint as every placed request is.
      count(ctx, f.routed ? ctx.endpoints[f.routed.decode] : result.endpoint, "cancelled");
      return {
        response: errorResponse(499, "client closed request", "server_error"),
        handedOff: false,
      };
    }
    ctx.metrics.retries.inc({
      endpoint: result.endpoint.url,
      reason: result.timeout ? "timeout" : "error",
    });
    ctx.health.failed(result.endpoint, result.reason);
    if (ctx.now() - f.arrival > c.requestTimeoutMs) break;
  }
  count(ctx, last?.endpoint ?? null, "failed");
  return {
    response: errorResponse(
      last?.timeout ? 504 : 502,
      `no engine could serve the request (${tried} attempt(s)); last failure: ${last?.endpoint.url}: ${last?.reason}`,
      "upstream_error",
    ),
    handedOff: false,
  };
}
