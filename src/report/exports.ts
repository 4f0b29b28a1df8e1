/**
 * Run summaries flattened for spreadsheets and notebooks: one row per run, the same columns in
 * CSV (`toCsv`) and JSON (`toJson`, an array of objects), with units in the column names.
 */
import { csvField } from "../io/line_writer.ts";
import type { RunSummary } from "../metrics/run_metrics.ts";

type Value = string | number;

interface ExportRun {
  readonly name: string;
  readonly dir: string;
  readonly summary: RunSummary;
}

export const EXPORT_COLUMNS: readonly [string, (r: ExportRun) => Value][] = [
  ["run", (r) => r.name],
  ["dir", (r) => r.dir],
  ["label", (r) => r.summary.run.label],
  ["policy", (r) => r.summary.run.policy],
  ["implementation", (r) => r.summary.run.implementation],
  ["layout", (r) => r.summary.run.layout],
  ["workload", (r) => r.summary.run.workload],
  ["seed", (r) => r.summary.run.seed],
  ["gpus", (r) => r.summary.run.gpus],
  ["requests_total", (r) => r.summary.requests.total],
  ["requests_completed", (r) => r.summary.requests.completed],
  ["requests_shed", (r) => r.summary.requests.shed],
  ["requests_rejected", (r) => r.summary.requests.rejected],
  ["requests_failed", (r) => r.summary.requests.failed],
  ["duration_ms", (r) => r.summary.durationMs],
  ...latency("ttft", (s) => s.ttftMs),
  ...latency("tpot", (s) => s.tpotMs),
  ...latency("e2e", (s) => s.e2eMs),
  ...latency("queue", (s) => s.queueMs),
  ["slo_ttft_ms", (r) => r.summary.goodput.sloTtftMs],
  ["slo_tpot_ms", (r) => r.summary.goodput.sloTpotMs],
  ["goodput_requests", (r) => r.summary.goodput.requests],
  ["goodput_fraction", (r) => r.summary.goodput.fraction],
  ["goodput_req_per_s", (r) => r.summary.goodput.perSecond],
  ["goodput_req_per_s_per_gpu", (r) => r.summary.goodput.perGpuPerSecond],
  ["prefix_hit_rate", (r) => r.summary.prefix.hitRate],
  ["disaggregated", (r) => r.summary.disaggregated],
  ["migrations", (r) => r.summary.migrations],
  ["preemptions", (r) => r.summary.preemptions],
  ["tokens_prompt", (r) => r.summary.tokens.prompt],
  ["tokens_output", (r) => r.summary.tokens.output],
  ["fleet_dollars_per_hour", (r) => r.summary.cost.fleetDollarsPerHour],
  ["cost_dollars", (r) => r.summary.cost.dollars],
  ["cost_per_million_tokens", (r) => r.summary.cost.perMillionTokens],
];

function latency(
  name: string,
  pick: (s: RunSummary) => RunSummary["ttftMs"],
): [string, (r: ExportRun) => Value][] {
  return (["mean", "p50", "p90", "p95", "p99", "max"] as const).map((stat) => [
    `${name}_${stat}_ms`,
    (r: ExportRun) => pick(r.summary)[stat],
  ]);
}

export function exportRows(runs: readonly ExportRun[]): Record<string, Value>[] {
  return runs.map((r) => Object.fromEntries(EXPORT_COLUMNS.map(([k, f]) => [k, f(r)])));
}

export function toCsv(runs: readonly ExportRun[]): string {
  const lines = [EXPORT_COLUMNS.map(([k]) => k).join(",")];
  for (const row of exportRows(runs)) lines.push(Object.values(row).map(csvField).join(","));
  return lines.join("\n") + "\n";
}

export function toJson(runs: readonly ExportRun[]): string {
  return JSON.stringify(exportRows(runs), null, 2) + "\n";
}
