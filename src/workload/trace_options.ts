/** Shaping a replayed trace: speed it up or down, cut it short. */
import { z } from "zod";

export const traceOptionsSchema = z.object({
  /** Arrival-rate multiplier: 2 replays the trace twice as fast (timestamps halved). */
  rateScale: z.number().gt(0),
  /** Keep only arrivals in the first `durationMs` of (scaled) trace time. */
  durationMs: z.number().gt(0).optional(),
  /** Keep at most this many requests. */
  maxRequests: z.number().int().min(1).optional(),
}).strict();

export type TraceOptions = z.infer<typeof traceOptionsSchema>;

/** Applies the options to an arrival; returns false once the trace should end. */
export function withinLimits(o: TraceOptions, index: number, arrivalMs: number): boolean {
  if (o.maxRequests !== undefined && index >= o.maxRequests) return false;
  if (o.durationMs !== undefined && arrivalMs > o.durationMs) return false;
  return true;
}
