/**
 * The workload flags `simulate` and `drive` share, turned into a workload entry
 * (src/workload/resolve.ts), so the same flags replay the same requests in both.
 */
import type { WorkloadSpec } from "../workload/resolve.ts";
import { traceFormat } from "../workload/shipped_traces.ts";
import { TraceError } from "../workload/trace_error.ts";
import { CliError } from "./errors.ts";

export interface WorkloadFlags {
  readonly workload?: string;
  readonly requests?: number;
  readonly rate?: number;
  readonly trace?: string;
  readonly rateScale?: number;
  readonly duration?: number;
  readonly maxRequests?: number;
}

/** The workload the flags ask for, or undefined when they name none. */
export function workloadFromFlags(
  opts: WorkloadFlags,
  filePresetName?: string,
): WorkloadSpec | undefined {
  if (opts.trace) {
    let format;
    try {
      format = traceFormat(opts.trace);
    } catch (e) {
      if (e instanceof TraceError) throw new CliError(e.message);
      throw e;
    }
    // A shipped trace's short name stays as it is: run configs then name it, not a local path.
    return {
      kind: "trace",
      format,
      path: opts.trace,
      options: {
        rateScale: opts.rateScale ?? 1,
        ...(opts.duration !== undefined && { durationMs: opts.duration }),
        ...(opts.maxRequests !== undefined && { maxRequests: opts.maxRequests }),
      },
    };
  }
  if (
    opts.rateScale !== undefined || opts.duration !== undefined || opts.maxRequests !== undefined
  ) {
    throw new CliError("--rate-scale, --duration and --max-requests apply to --trace only");
  }
  if (opts.workload || opts.requests !== undefined || opts.rate !== undefined) {
    const overrides: Record<string, unknown> = {};
    if (opts.requests !== undefined) overrides.requests = opts.requests;
    if (opts.rate !== undefined) overrides.ratePerSec = opts.rate;
    return { kind: "preset", name: opts.workload ?? filePresetName ?? "chat", overrides };
  }
  return undefined;
}
