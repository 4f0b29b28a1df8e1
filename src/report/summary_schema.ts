/**
 * summary.json, validated: the zod schema of `RunSummary` (src/sim/metrics/run_metrics.ts).
 * Simulated and driven runs write the same document; extra fields are allowed (a newer writer
 * may add some), missing or mistyped ones are not.
 */
import { z } from "zod";
import { formatSchemaError } from "../core/config.ts";
import type { RunSummary } from "../metrics/run_metrics.ts";
import { readFailure, RunInputError } from "./errors.ts";

const count = z.number().int().nonnegative();
const num = z.number();
const nonNegative = z.number().nonnegative();

const latency = z.object({
  count,
  mean: nonNegative,
  std: nonNegative,
  p50: nonNegative,
  p90: nonNegative,
  p95: nonNegative,
  p99: nonNegative,
  max: nonNegative,
});

export const runSummarySchema = z.object({
  schemaVersion: z.literal(1),
  run: z.object({
    label: z.string().min(1),
    policy: z.string(),
    implementation: z.string(),
    layout: z.string(),
    workload: z.string(),
    seed: num,
    gpus: count,
  }),
  requests: z.object({
    total: count,
    completed: count,
    shed: count,
    rejected: count,
    /** Live (driven) runs only; summaries written before it existed read as 0. */
    failed: count.default(0),
  }),
  durationMs: nonNegative,
  ttftMs: latency,
  tpotMs: latency,
  e2eMs: latency,
  queueMs: latency,
  ttftByPool: z.record(z.string(), latency),
  ttftByPromptClass: z.object({ short: latency, long: latency }),
  goodput: z.object({
    sloTtftMs: nonNegative,
    sloTpotMs: nonNegative,
    requests: count,
    fraction: z.number().min(0).max(1),
    perSecond: nonNegative,
    perGpuPerSecond: nonNegative,
  }),
  prefix: z.object({
    promptTokens: count,
    cachedTokens: count,
    hitRate: z.number().min(0).max(1),
  }),
  disaggregated: count,
  migrations: count,
  preemptions: count,
  queueDepth: z.object({
    meanByPool: z.record(z.string(), nonNegative),
    maxByPool: z.record(z.string(), nonNegative),
  }),
  kvUsage: z.object({ meanByPool: z.record(z.string(), nonNegative) }),
  tokens: z.object({ prompt: count, output: count }),
  cost: z.object({
    fleetDollarsPerHour: nonNegative,
    dollars: nonNegative,
    perMillionTokens: nonNegative,
  }),
  perGpu: z.array(z.object({
    gpu: z.number().int(),
    pool: z.string(),
    prefills: count,
    decodes: count,
    busyFraction: z.number().min(0).max(1),
  })),
});

/** Validates a parsed summary.json; `path` names the file in the error. */
export function validateSummary(value: unknown, path: string): RunSummary {
  const parsed = runSummarySchema.safeParse(value);
  if (!parsed.success) {
    throw new RunInputError(formatSchemaError(`summary file '${path}'`, parsed.error, value));
  }
  return parsed.data;
}

/** Reads and validates `<dir>/summary.json`. */
export async function readSummary(path: string): Promise<RunSummary> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new RunInputError(`cannot read summary file '${path}': ${readFailure(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RunInputError(
      `summary file '${path}' is not valid JSON: ${(error as Error).message}`,
    );
  }
  return validateSummary(value, path);
}
