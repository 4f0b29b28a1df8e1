/**
 * Calibrating the time model from measured timings (DESIGN-NOTES §5): ordinary least squares
 * of prefill time on prefill FLOPs (-> overhead, achieved FLOP rate) and of decode step time on
 * bytes read and batch size (-> overhead, achieved bandwidth, per-sequence cost). Rows that
 * contradict physics (a larger batch measured faster) are dropped first and reported; in the
 * splitwise data these are the batch-64 rows.
 */
import { parse } from "csv-parse/sync";
import type { Efficiency } from "./efficiency.ts";
import type { GpuSpec } from "./hardware.ts";
import { kvBytesPerToken, type ModelSpec, weightBytes } from "./models.ts";

/** One measurement row (splitwise perf_model.csv columns, times in ms). */
export interface TimingRow {
  readonly model: string;
  readonly hardware: string;
  readonly tensorParallel: number;
  readonly promptSize: number;
  readonly batchSize: number;
  readonly tokenSize: number;
  readonly promptTimeMs: number;
  readonly tokenTimeMs: number;
  /** 1-based line in the source file, for error messages and reports. */
  readonly line: number;
}

export class CalibrationError extends Error {
  override name = "CalibrationError";
}

const COLUMNS = [
  "model",
  "hardware",
  "prompt_size",
  "batch_size",
  "token_size",
  "prompt_time",
  "token_time",
  "tensor_parallel",
];

/** Parses splitwise-style timing CSV text; errors name the file, line and field. */
export function parseTimingCsv(text: string, file: string): TimingRow[] {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: true, info: true, skip_empty_lines: true, trim: true });
  } catch (e) {
    throw new CalibrationError(`${file}: not valid CSV: ${(e as Error).message}`);
  }
  if (records.length === 0) throw new CalibrationError(`${file}: no timing rows after the header`);
  const header = Object.keys(records[0].record);
  for (const column of COLUMNS) {
    if (!header.includes(column)) {
      throw new CalibrationError(
        `${file}: missing column '${column}' (found: ${header.join(", ")})`,
      );
    }
  }
  return records.map(({ record, info }) => {
    const num = (field: string) => {
      const value = Number(record[field]);
      if (record[field] === "" || !Number.isFinite(value) || value < 0) {
        throw new CalibrationError(
          `${file}:${info.lines}: field '${field}' must be a non-negative number: current value is ${
            JSON.stringify(record[field])
          }`,
        );
      }
      return value;
    };
    return {
      model: record.model,
      hardware: record.hardware,
      tensorParallel: num("tensor_parallel"),
      promptSize: num("prompt_size"),
      batchSize: num("batch_size"),
      tokenSize: num("token_size"),
      promptTimeMs: num("prompt_time"),
      tokenTimeMs: num("token_time"),
      line: info.lines,
    };
  });
}

/** Least squares by the normal equations (k <= 3 unknowns, so this is exact enough). */
export function leastSquares(x: number[][], y: number[]): number[] {
  const k = x[0].length;
  const a = Array.from({ length: k }, () => new Array(k + 1).fill(0));
  x.forEach((row, r) => {
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) a[i][j] += row[i] * row[j];
      a[i][k] += row[i] * y[r];
    }
  });
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) pivot = r;
    [a[c], a[pivot]] = [a[pivot], a[c]];
    if (a[c][c] === 0) throw new CalibrationError("calibration rows do not determine the fit");
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let j = c; j <= k; j++) a[r][j] -= f * a[c][j];
    }
  }
  return a.map((row, i) => row[k] / row[i]);
}

/**
 * Least squares with a leading overhead term that may not go negative: if the free fit wants
 * a negative overhead, the overhead is pinned at 0 and the rest refitted.
 */
function fitWithOverhead(x: number[][], y: number[]): number[] {
  const free = leastSquares(x.map((row) => [1, ...row]), y);
  if (free[0] >= 0) return free;
  return [0, ...leastSquares(x, y)];
}

export interface CalibrationResult {
  readonly efficiency: Efficiency;
  readonly rowsUsed: number;
  /** Source lines dropped as physically inconsistent (see `inconsistentRows`). */
  readonly dropped: number[];
}

/**
 * Rows that contradict physics: more work (a larger batch at the same prompt and token sizes)
 * measured faster than less work, in either phase. The later, larger-batch row is dropped.
 */
export function inconsistentRows(rows: readonly TimingRow[]): Set<TimingRow> {
  const mean = (rs: TimingRow[], f: (r: TimingRow) => number) =>
    rs.reduce((s, r) => s + f(r), 0) / rs.length;
  const groups = new Map<string, Map<number, TimingRow[]>>();
  for (const r of rows) {
    const key = `${r.promptSize}/${r.tokenSize}`;
    const byBatch = groups.get(key) ?? new Map<number, TimingRow[]>();
    byBatch.set(r.batchSize, [...(byBatch.get(r.batchSize) ?? []), r]);
    groups.set(key, byBatch);
  }
  const bad = new Set<TimingRow>();
  for (const byBatch of groups.values()) {
    const batches = [...byBatch.keys()].sort((a, b) => a - b);
    let maxPrompt = 0, maxToken = 0;
    for (const b of batches) {
      const rs = byBatch.get(b)!;
      const prompt = mean(rs, (r) => r.promptTimeMs), token = mean(rs, (r) => r.tokenTimeMs);
      if (prompt < maxPrompt || token < maxToken) rs.forEach((r) => bad.add(r));
      else {
        maxPrompt = prompt;
        maxToken = token;
      }
    }
  }
  return bad;
}

/** Fits `efficiency` for `model` on `gpu` at `tensorParallel` from matching rows. */
export function calibrate(
  rows: readonly TimingRow[],
  model: ModelSpec,
  gpu: GpuSpec,
  tensorParallel: number,
): CalibrationResult {
  const bad = inconsistentRows(rows);
  const kept = rows.filter((r) => !bad.has(r));
  if (kept.length < 4) {
    throw new CalibrationError(`need at least 4 consistent timing rows, got ${kept.length}`);
  }
  const l = model.layers, h = model.hiddenSize;
  const tflop = (tokens: number, batch: number) =>
    batch * (2 * model.params * tokens + 2 * l * h * tokens * tokens) / 1e12;
  const gbRead = (r: TimingRow) =>
    (weightBytes(model) + r.batchSize * (r.promptSize + r.tokenSize / 2) * kvBytesPerToken(model)) /
    1e9;
  const prefill = {
    coef: fitWithOverhead(
      kept.map((r) => [tflop(r.promptSize, r.batchSize)]),
      kept.map((r) => r.promptTimeMs),
    ),
  };
  const decode = {
    coef: fitWithOverhead(
      kept.map((r) => [gbRead(r), r.batchSize]),
      kept.map((r) => r.tokenTimeMs),
    ),
  };
  const [prefillOverhead, msPerTflop] = prefill.coef;
  const [decodeOverhead, msPerGb, msPerSeq] = decode.coef;
  if (!(msPerTflop > 0 && msPerGb > 0)) {
    throw new CalibrationError(
      "the fit found no positive cost per FLOP or per byte; check the rows",
    );
  }
  return {
    efficiency: {
      // ms per TFLOP -> achieved TFLOP/ms = 1/msPerTflop; peak per ms = peakTflops * tp / 1e3.
      prefillMfu: Math.min(1, 1e3 / msPerTflop / (gpu.peakTflops * tensorParallel)),
      decodeBandwidthEfficiency: Math.min(
        1,
        1e3 / msPerGb / (gpu.memoryBandwidthTBs * 1e3 * tensorParallel),
      ),
      prefillOverheadMsPerLayer: Math.max(0, prefillOverhead) / l,
      decodeOverheadMsPerLayer: Math.max(0, decodeOverhead) / l,
      decodeMsPerSeqPerLayer: Math.max(0, msPerSeq) / l,
    },
    rowsUsed: kept.length,
    dropped: [...bad].map((r) => r.line).sort((a, b) => a - b),
  };
}
