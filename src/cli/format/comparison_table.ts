/** The side-by-side table `simulate` prints: one column per run, plus the change vs the first. */
import Table from "cli-table3";
import type { RunSummary } from "../../metrics/run_metrics.ts";

interface Row {
  readonly label: string;
  readonly value: (s: RunSummary) => number;
  /** Which direction is better, for the change column. */
  readonly better: "lower" | "higher" | "none";
  readonly digits?: number;
}

function poolMean(record: Record<string, number>): number {
  const values = Object.values(record);
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

export const COMPARISON_ROWS: readonly Row[] = [
  { label: "TTFT p50 (ms)", value: (s) => s.ttftMs.p50, better: "lower" },
  { label: "TTFT p95 (ms)", value: (s) => s.ttftMs.p95, better: "lower" },
  { label: "TTFT p99 (ms)", value: (s) => s.ttftMs.p99, better: "lower" },
  { label: "TTFT std (ms)", value: (s) => s.ttftMs.std, better: "lower" },
  { label: "TPOT p50 (ms/token)", value: (s) => s.tpotMs.p50, better: "lower", digits: 2 },
  { label: "TPOT p99 (ms/token)", value: (s) => s.tpotMs.p99, better: "lower", digits: 2 },
  { label: "E2E p50 (ms)", value: (s) => s.e2eMs.p50, better: "lower" },
  {
    label: "SLO goodput (fraction)",
    value: (s) => s.goodput.fraction,
    better: "higher",
    digits: 3,
  },
  { label: "SLO goodput (req/s)", value: (s) => s.goodput.perSecond, better: "higher", digits: 2 },
  {
    label: "SLO goodput (req/s/GPU)",
    value: (s) => s.goodput.perGpuPerSecond,
    better: "higher",
    digits: 3,
  },
  {
    label: "queue depth (mean/GPU)",
    value: (s) => poolMean(s.queueDepth.meanByPool),
    better: "lower",
    digits: 2,
  },
  { label: "prefix hit rate", value: (s) => s.prefix.hitRate, better: "higher", digits: 3 },
  { label: "disaggregated requests", value: (s) => s.disaggregated, better: "none", digits: 0 },
  { label: "migrations", value: (s) => s.migrations, better: "none", digits: 0 },
  { label: "preemptions", value: (s) => s.preemptions, better: "lower", digits: 0 },
  {
    label: "shed + rejected + failed",
    value: (s) => s.requests.shed + s.requests.rejected + s.requests.failed,
    better: "lower",
    digits: 0,
  },
  {
    label: "cost ($ per 1M tokens)",
    value: (s) => s.cost.perMillionTokens,
    better: "lower",
    digits: 3,
  },
];

function format(x: number, digits = 1): string {
  return x.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function change(base: number, x: number, better: Row["better"]): string {
  if (better === "none" || base === x) return "";
  if (base === 0) return "";
  const pct = (x - base) / Math.abs(base) * 100;
  const good = better === "lower" ? pct < 0 : pct > 0;
  return `${pct > 0 ? "+" : ""}${pct.toFixed(1)}% ${good ? "better" : "worse"}`;
}

export function comparisonTable(runs: readonly { label: string; summary: RunSummary }[]): string {
  const showChange = runs.length > 1;
  const head = ["metric", ...runs.map((r) => `${r.label} (${r.summary.run.policy})`)];
  if (showChange) head.push(`change vs ${runs[0].label}`);
  const table = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const row of COMPARISON_ROWS) {
    const values = runs.map((r) => row.value(r.summary));
    const cells = [row.label, ...values.map((v) => format(v, row.digits))];
    if (showChange) {
      cells.push(values.slice(1).map((v) => change(values[0], v, row.better)).join(" / "));
    }
    table.push(cells);
  }
  return table.toString();
}
