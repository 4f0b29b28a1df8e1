/**
 * Mooncake traces (JSONL: {timestamp ms, input_length, output_length, hash_ids}); each hash id
 * names one 512-token prefix block, so equal ids mean a shared prefix: the KV-locality signal.
 * Streamed line by line (decompressed when `.gz`); a shipped trace's short name reads the
 * shipped file. A trace that yields no request is an error.
 */
import { createInterface } from "node:readline";
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

export function mooncakeTraceSource(nameOrPath: string, options: TraceOptions): RequestSource {
  const path = tracePath(nameOrPath);
  requireReadable(path);
  const stream = openText(path);
  let bytes = 0;
  stream.on("data", (chunk: Uint8Array) => bytes += chunk.byteLength);
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
          if (index === 0) throw noRequests(path, bytes, "only blank lines");
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
          if (index === 0) throw limitsLeaveNone(path, options, arrivalMs);
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
