/**
 * The side-by-side comparison of runs: one column per run, then the change (simulate) or the
 * ratio (compare) of each against a baseline run. The rows are shared by the terminal table
 * (`comparisonTable`) and the HTML report (`comparisonCells`).
 */
import Table from "cli-table3";
import type { RunSummary } from "../../metrics/run_metrics.ts";

interface Row {
  readonly label: string;
  readonly value: (s: RunSummary) => number;
  /** Which direction is better, for the change column. */
  readonly better: "lower" | "higher" | "none";
  readonly digits?: number;
  /** A statistic of served requests: undefined (n/a) in a run that served none. */
  readonly perRequest?: boolean;
}

function poolMean(record: Record<string, number>): number {
  const values = Object.values(record);
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

export const COMPARISON_ROWS: readonly Row[] = [
  { label: "TTFT p50 (ms)", value: (s) => s.ttftMs.p50, better: "lower", perRequest: true },
  { label: "TTFT p95 (ms)", value: (s) => s.ttftMs.p95, better: "lower", perRequest: true },
  { label: "TTFT p99 (ms)", value: (s) => s.ttftMs.p99, better: "lower", perRequest: true },
  { label: "TTFT std (ms)", value: (s) => s.ttftMs.std, better: "lower", perRequest: true },
  {
    label: "TPOT p50 (ms/token)",
    value: (s) => s.tpotMs.p50,
    better: "lower",
    digits: 2,
    perRequest: true,
  },
  {
    label: "TPOT p99 (ms/token)",
    value: (s) => s.tpotMs.p99,
    better: "lower",
    digits: 2,
    perRequest: true,
  },
  { label: "E2E p50 (ms)", value: (s) => s.e2eMs.p50, better: "lower", perRequest: true },
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

function change(base: number, x: number, better: Row["better"]): Cell {
  if (better === "none" || base === x) return { text: "" };
  if (base === 0) return { text: "" };
  const pct = (x - base) / Math.abs(base) * 100;
  const tone = (better === "lower" ? pct < 0 : pct > 0) ? "better" : "worse";
  return { text: `${pct > 0 ? "+" : ""}${pct.toFixed(1)}% ${tone}`, tone };
}

/** `x` as a multiple of `base`, with the change in percent and which way is better. */
function ratio(base: number, x: number, better: Row["better"]): Cell {
  if (base === 0) return { text: x === 0 ? "same (0)" : "n/a (baseline 0)" };
  const r = x / base;
  const pct = (r - 1) * 100;
  if (x === base) return { text: "1.000x (same)" };
  const text = `${r.toFixed(3)}x (${pct > 0 ? "+" : ""}${pct.toFixed(1)}%)`;
  if (better === "none") return { text };
  const tone = (better === "lower" ? x < base : x > base) ? "better" : "worse";
  return { text: `${text} ${tone}`, tone };
}

/** One table cell; `tone` says whether a change is an improvement. */
export interface Cell {
  readonly text: string;
  readonly tone?: "better" | "worse";
}

export interface ComparisonOptions {
  /** Index of the run the others are compared with (default 0). */
  readonly baseline?: number;
  /**
   * false (simulate's table): one column of percent changes vs the baseline, shown for two
   * runs only (`pdroute league` ranks more). true: one column per other run with its ratio to
   * the baseline.
   */
  readonly ratios?: boolean;
}

/** The comparison as header and cells, for the terminal table and the HTML report alike. */
export function comparisonCells(
  runs: readonly { label: string; summary: RunSummary }[],
  options: ComparisonOptions = {},
): { head: string[]; rows: Cell[][] } {
  const base = options.baseline ?? 0;
  const others = runs.map((_, i) => i).filter((i) => i !== base);
  const head = [
    "metric",
    ...runs.map((r) =>
      r.label === r.summary.run.policy ? r.label : `${r.label} (${r.summary.run.policy})`
    ),
  ];
  // Percent changes against one baseline read well for two runs; for more, ratios or none.
  if (!options.ratios && others.length > 1) others.length = 0;
  if (others.length > 0) {
    if (options.ratios) head.push(...others.map((i) => `${runs[i].label} / ${runs[base].label}`));
    else head.push(`change vs ${runs[base].label}`);
  }
  const rows = COMPARISON_ROWS.map((row) => {
    // A latency of a run that served nothing is not 0 ms: it does not exist.
    const served = runs.map((r) => !row.perRequest || r.summary.requests.completed > 0);
    const values = runs.map((r) => row.value(r.summary));
    const cells: Cell[] = [
      { text: row.label },
      ...values.map((v, i) => ({ text: served[i] ? format(v, row.digits) : "n/a (none served)" })),
    ];
    const bothServed = (i: number) => served[base] && served[i];
    if (others.length > 0 && options.ratios) {
      cells.push(
        ...others.map((i) =>
          bothServed(i) ? ratio(values[base], values[i], row.better) : { text: "n/a" }
        ),
      );
    } else if (others.length > 0) {
      const changes = others.map((i) =>
        bothServed(i) ? change(values[base], values[i], row.better) : { text: "" }
      );
      const tones = new Set(changes.map((c) => c.tone));
      cells.push({
        text: changes.map((c) => c.text).join(" / "),
        ...(tones.size === 1 && changes[0].tone && { tone: changes[0].tone }),
      });
    }
    return cells;
  });
  return { head, rows };
}

export function comparisonTable(
  runs: readonly { label: string; summary: RunSummary }[],
  options: ComparisonOptions = {},
): string {
  const { head, rows } = comparisonCells(runs, options);
  const table = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const row of rows) table.push(row.map((c) => c.text));
  return table.toString();
}
