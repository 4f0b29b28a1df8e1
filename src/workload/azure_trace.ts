/**
 * Azure LLM inference trace 2023 (CSV: TIMESTAMP,ContextTokens,GeneratedTokens; timestamps are
 * wall-clock strings with up to 7 fractional digits). Streamed from disk; arrival times are
 * relative to the first row. The trace carries no prefix information.
 */
import { parse } from "csv-parse";
import { createReadStream } from "node:fs";
import type { RequestSource, SimRequest } from "./request.ts";
import { fieldError, tokenCount, TraceError } from "./trace_error.ts";
import { type TraceOptions, withinLimits } from "./trace_options.ts";

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/** Milliseconds since the epoch (UTC) of an Azure trace timestamp, or NaN if malformed. */
export function parseAzureTimestamp(text: string): number {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s, frac] = m;
  const whole = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  return whole + (frac ? Number(`0.${frac}`) * 1000 : 0);
}

export function azureTraceSource(path: string, options: TraceOptions): RequestSource {
  const parser = createReadStream(path).pipe(
    parse({ columns: true, info: true, skip_empty_lines: true, trim: true }),
  );
  const records = parser[Symbol.asyncIterator]();
  let first = NaN, previous = -Infinity, index = 0, done = false;
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
          done = true;
          break;
        }
        const { record, info } = item.value;
        const line = info.lines;
        for (const field of ["TIMESTAMP", "ContextTokens", "GeneratedTokens"]) {
          if (!(field in record)) throw fieldError(path, line, field, "is missing", undefined);
        }
        const at = parseAzureTimestamp(record.TIMESTAMP);
        if (Number.isNaN(at)) {
          throw fieldError(
            path,
            line,
            "TIMESTAMP",
            "must look like 2023-11-16 18:15:46.6805900",
            record.TIMESTAMP,
          );
        }
        if (at < previous) {
          throw fieldError(path, line, "TIMESTAMP", "goes backwards", record.TIMESTAMP);
        }
        previous = at;
        if (Number.isNaN(first)) first = at;
        const arrivalMs = (at - first) / options.rateScale;
        if (!withinLimits(options, index, arrivalMs)) {
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
