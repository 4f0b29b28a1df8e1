/**
 * Mooncake traces (JSONL: {timestamp ms, input_length, output_length, hash_ids}); each hash id
 * names one 512-token prefix block, so equal ids mean a shared prefix: the KV-locality signal.
 * Streamed line by line.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { RequestSource, SimRequest } from "./request.ts";
import { fieldError, requireReadable, tokenCount, TraceError } from "./trace_error.ts";
import { type TraceOptions, withinLimits } from "./trace_options.ts";

export function mooncakeTraceSource(path: string, options: TraceOptions): RequestSource {
  requireReadable(path);
  const stream = createReadStream(path);
  const lines = createInterface({ input: stream, crlfDelay: Infinity })[Symbol.asyncIterator]();
  let line = 0, index = 0, previous = -Infinity, done = false;
  return {
    description: `Mooncake trace ${path} (rate x${options.rateScale})`,
    async next(): Promise<SimRequest[]> {
      const batch: SimRequest[] = [];
      while (!done && batch.length < 4096) {
        let item: IteratorResult<string>;
        try {
          item = await lines.next();
        } catch (e) {
          throw new TraceError(`${path}: cannot read: ${(e as Error).message}`);
        }
        if (item.done) {
          done = true;
          break;
        }
        line++;
        if (item.value.trim() === "") continue;
        let row: Record<string, unknown>;
        try {
          row = JSON.parse(item.value);
        } catch (e) {
          throw new TraceError(`${path}:${line}: not valid JSON: ${(e as Error).message}`);
        }
        if (typeof row !== "object" || row === null || Array.isArray(row)) {
          throw new TraceError(`${path}:${line}: expected a JSON object per line`);
        }
        const at = row.timestamp;
        if (typeof at !== "number" || !Number.isFinite(at) || at < 0) {
          throw fieldError(path, line, "timestamp", "must be a non-negative number of ms", at);
        }
        if (at < previous) throw fieldError(path, line, "timestamp", "goes backwards", at);
        previous = at;
        const arrivalMs = at / options.rateScale;
        if (!withinLimits(options, index, arrivalMs)) {
          done = true;
          stream.destroy();
          break;
        }
        const ids = row.hash_ids;
        if (
          !Array.isArray(ids) || !ids.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff)
        ) {
          throw fieldError(
            path,
            line,
            "hash_ids",
            "must be an array of integers from 0 to 4294967295",
            ids,
          );
        }
        batch.push({
          id: index++,
          arrivalMs,
          promptTokens: tokenCount(path, line, "input_length", row.input_length, 1),
          outputTokens: tokenCount(path, line, "output_length", row.output_length, 1),
          prefixBlocks: ids as number[],
        });
      }
      return batch;
    },
  };
}
