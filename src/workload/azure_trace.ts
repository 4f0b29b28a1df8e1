/**
 * Azure LLM inference trace 2023 (CSV: TIMESTAMP,ContextTokens,GeneratedTokens; timestamps are
 * wall-clock strings with up to 7 fractional digits). Streamed from disk; arrival times are
 * relative to the first row. The trace carries no prefix information. A `.gz` file is read
 * decompressed; a shipped trace's short name (shipped_traces.ts) reads the shipped file. A trace
 * that yields no request is an error.
 */
import { parse } from "csv-parse";
import { openText } from "../io/text_file.ts";
import type { RequestSource, SimRequest } from "./request.ts";
import { tracePath } from "./shipped_traces.ts";
import {
  fieldError,
  limitsLeaveNone,
  noRequests,
  requireReadable,
  tokenCount,
  TraceError,
} from "./trace_error.ts";
import { type TraceOptions, withinLimits } from "./trace_options.ts";

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/**
 * An Azure trace timestamp as whole epoch milliseconds (UTC) plus the sub-second fraction in
 * ms, kept apart so differences stay exact; null if malformed.
 */
export function parseAzureTimestamp(text: string): { wholeMs: number; fracMs: number } | null {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac] = m;
  return {
    wholeMs: Date.UTC(+y, +mo - 1, +d, +h, +mi, +s),
    fracMs: frac ? Number(`0.${frac}`) * 1000 : 0,
  };
}

/** Milliseconds from `from` to `to`. */
export function azureElapsedMs(
  from: { wholeMs: number; fracMs: number },
  to: { wholeMs: number; fracMs: number },
): number {
  return (to.wholeMs - from.wholeMs) + (to.fracMs - from.fracMs);
}

export function azureTraceSource(nameOrPath: string, options: TraceOptions): RequestSource {
  const path = tracePath(nameOrPath);
  requireReadable(path);
  const stream = openText(path);
  let bytes = 0;
  stream.on("data", (chunk: Uint8Array) => bytes += chunk.byteLength);
  const parser = stream.pipe(
    parse({ columns: true, info: true, skip_empty_lines: true, trim: true }),
  );
  // pipe() does not forward read errors; without this one would escape as an uncaught error.
  stream.on("error", (e) => parser.destroy(e));
  const records = parser[Symbol.asyncIterator]();
  let first: { wholeMs: number; fracMs: number } | null = null;
  let previous = -Infinity, index = 0, done = false;
  return {
    description: `Azure trace ${path} (rate x${options.rateScale})`,
    async next(): Promise<SimRequest[]> {
      const batch: SimRequest[] = [];
      while (!done && batch.length < 4096) {
        let item: IteratorResult<{ record: Record<string, string>; info: { lines: number } }>;
        try {
          item = await records.next();
        } catch (e) {
          throw new TraceError(`${path}: cannot read CSV: ${(e as Error).message}`);
        }
        if (item.done) {
          if (index === 0) throw noRequests(path, bytes, "a header and no rows");
          done = true;
          break;
        }
        const { record, info } = item.value;
        const line = info.lines;
        for (const field of ["TIMESTAMP", "ContextTokens", "GeneratedTokens"]) {
          if (!(field in record)) throw fieldError(path, line, field, "is missing", undefined);
        }
        const at = parseAzureTimestamp(record.TIMESTAMP);
        if (!at) {
          throw fieldError(
            path,
            line,
            "TIMESTAMP",
            "must look like 2023-11-16 18:15:46.6805900",
            record.TIMESTAMP,
          );
        }
        first ??= at;
        const elapsed = azureElapsedMs(first, at);
        if (elapsed < previous) {
          throw fieldError(path, line, "TIMESTAMP", "goes backwards", record.TIMESTAMP);
        }
        previous = elapsed;
        const arrivalMs = elapsed / options.rateScale;
        if (!withinLimits(options, index, arrivalMs)) {
          if (index === 0) throw limitsLeaveNone(path, options, arrivalMs);
          done = true;
          parser.destroy();
          break;
        }
        batch.push({
          id: index++,
          arrivalMs,
          promptTokens: tokenCount(path, line, "ContextTokens", record.ContextTokens, 1),
          outputTokens: tokenCount(path, line, "GeneratedTokens", record.GeneratedTokens, 1),
          prefixBlocks: [],
        });
      }
      return batch;
    },
  };
}
