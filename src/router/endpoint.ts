/**
 * One engine behind the router, as the router tracks it: address, role and pool, health, the
 * last scrape's histogram totals (to turn cumulative counters into per-interval means), and
 * the models it serves.
 */
import type { EndpointRole } from "../core/endpoints.ts";

export type Pool = "shared" | "prefill" | "decode";

export interface Endpoint {
  readonly index: number;
  /** Base URL without a trailing slash. */
  readonly url: string;
  readonly role: EndpointRole;
  /** GPU index for reports (the configured one, else the endpoint's index). */
  readonly gpu: number;
  readonly pool: Pool;
  healthy: boolean;
  /** Consecutive failures since the last success. */
  failures: number;
  /** Why it was last marked unhealthy (empty while healthy). */
  reason: string;
  /** Models from its /v1/models (empty until it answered). */
  models: readonly Record<string, unknown>[];
  /** Cumulative TTFT / ITL histogram sums and counts at the previous scrape. */
  histograms: { ttftSum: number; ttftCount: number; itlSum: number; itlCount: number } | null;
}

export function poolOf(role: EndpointRole): Pool {
  return role === "both" ? "shared" : role;
}
