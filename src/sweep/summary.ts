/**
 * A sweep's results as a table: one row per grid point, whether each configuration (pools,
 * rate, policy) meets the SLO goodput target on every seed, the fewest GPUs that do per rate
 * and policy, and the Pareto front of mean goodput against GPUs. Pure: the same points and
 * summaries give the same bytes.
 */
import type { RunSummary } from "../metrics/run_metrics.ts";
import type { SweepPoint, SweepSpec } from "./spec.ts";

export interface SweepRow {
  readonly index: number;
  readonly group: string;
  readonly policy: string;
  readonly prefillGpus: number;
  readonly decodeGpus: number;
  readonly gpus: number;
  readonly rate: number;
  readonly seed: number;
  readonly requests: number;
  readonly completed: number;
  readonly shed: number;
  readonly goodputFraction: number;
  readonly goodputPerSecond: number;
  readonly ttftP50Ms: number;
  readonly ttftP95Ms: number;
  readonly ttftP99Ms: number;
  readonly tpotP50Ms: number;
  readonly tpotP95Ms: number;
  readonly costPerMillionTokens: number;
  readonly meetsTarget: boolean;
}

/** One configuration over its seeds. */
export interface SweepConfiguration {
  readonly policy: string;
  readonly rate: number;
  readonly prefillGpus: number;
  readonly decodeGpus: number;
  readonly gpus: number;
  readonly seeds: number;
  readonly meanGoodputFraction: number;
  readonly minGoodputFraction: number;
  /** Every seed met the target. */
  readonly meetsTarget: boolean;
  /** On the Pareto front of its (rate, policy): no other has at most its GPUs and more goodput. */
  readonly pareto: boolean;
}

export interface SweepAnswer {
  readonly rate: number;
  readonly policy: string;
  /** The fewest GPUs meeting the target (ties: the higher mean goodput), null if none does. */
  readonly fewest: SweepConfiguration | null;
}

export interface SweepSummary {
  readonly name: string;
  readonly target: SweepSpec["target"];
  readonly rateUnit: "ratePerSec" | "rateScale";
  readonly rows: readonly SweepRow[];
  readonly configurations: readonly SweepConfiguration[];
  readonly answers: readonly SweepAnswer[];
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

export function summarizeSweep(
  name: string,
  spec: SweepSpec,
  points: readonly SweepPoint[],
  summaries: readonly RunSummary[],
): SweepSummary {
  const target = spec.target.goodputFraction;
  const rows = points.map((p, i): SweepRow => {
    const s = summaries[i];
    return {
      index: p.index,
      group: p.group,
      policy: p.policy,
      prefillGpus: p.prefillGpus,
      decodeGpus: p.decodeGpus,
      gpus: p.gpus,
      rate: p.rate,
      seed: p.seed,
      requests: s.requests.total,
      completed: s.requests.completed,
      shed: s.requests.shed,
      goodputFraction: s.goodput.fraction,
      goodputPerSecond: s.goodput.perSecond,
      ttftP50Ms: s.ttftMs.p50,
      ttftP95Ms: s.ttftMs.p95,
      ttftP99Ms: s.ttftMs.p99,
      tpotP50Ms: s.tpotMs.p50,
      tpotP95Ms: s.tpotMs.p95,
      costPerMillionTokens: s.cost.perMillionTokens,
      meetsTarget: s.goodput.fraction >= target,
    };
  });
  // Configurations in first-appearance order of the grid.
  const byKey = new Map<string, SweepRow[]>();
  for (const r of rows) {
    const key = `${r.policy}|${r.rate}|${r.prefillGpus}|${r.decodeGpus}`;
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  const plain = [...byKey.values()].map((rs) => {
    const fractions = rs.map((r) => r.goodputFraction);
    return {
      policy: rs[0].policy,
      rate: rs[0].rate,
      prefillGpus: rs[0].prefillGpus,
      decodeGpus: rs[0].decodeGpus,
      gpus: rs[0].gpus,
      seeds: rs.length,
      meanGoodputFraction: round6(fractions.reduce((a, b) => a + b, 0) / rs.length),
      minGoodputFraction: Math.min(...fractions),
      meetsTarget: rs.every((r) => r.meetsTarget),
    };
  });
  const sameSeries = (a: { policy: string; rate: number }, b: { policy: string; rate: number }) =>
    a.policy === b.policy && a.rate === b.rate;
  const configurations = plain.map((c): SweepConfiguration => ({
    ...c,
    pareto: !plain.some((o) =>
      o !== c && sameSeries(o, c) && o.gpus <= c.gpus &&
      o.meanGoodputFraction >= c.meanGoodputFraction &&
      (o.gpus < c.gpus || o.meanGoodputFraction > c.meanGoodputFraction)
    ),
  }));
  const answers: SweepAnswer[] = [];
  for (const rate of [...new Set(rows.map((r) => r.rate))]) {
    for (const policy of [...new Set(rows.map((r) => r.policy))]) {
      const meeting = configurations.filter((c) =>
        c.rate === rate && c.policy === policy && c.meetsTarget
      );
      meeting.sort((a, b) => a.gpus - b.gpus || b.meanGoodputFraction - a.meanGoodputFraction);
      answers.push({ rate, policy, fewest: meeting[0] ?? null });
    }
  }
  return {
    name,
    target: spec.target,
    rateUnit: spec.grid.rateScale ? "rateScale" : "ratePerSec",
    rows,
    configurations,
    answers,
  };
}

const COLUMNS: readonly (keyof SweepRow)[] = [
  "index",
  "group",
  "policy",
  "prefillGpus",
  "decodeGpus",
  "gpus",
  "rate",
  "seed",
  "requests",
  "completed",
  "shed",
  "goodputFraction",
  "goodputPerSecond",
  "ttftP50Ms",
  "ttftP95Ms",
  "ttftP99Ms",
  "tpotP50Ms",
  "tpotP95Ms",
  "costPerMillionTokens",
  "meetsTarget",
];

/** One row per grid point (sweep.csv). */
export function sweepCsv(summary: SweepSummary): string {
  const lines = [COLUMNS.join(",")];
  for (const r of summary.rows) lines.push(COLUMNS.map((c) => String(r[c])).join(","));
  return lines.join("\n") + "\n";
}

/** The answer in words, one line per rate and policy. */
export function answerLines(summary: SweepSummary): string[] {
  const unit = summary.rateUnit === "rateScale" ? "x trace rate" : "req/s";
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return summary.answers.map((a) => {
    const at = `${a.rate} ${unit}, ${a.policy}`;
    if (!a.fewest) {
      return `${at}: no configuration meets ${pct(summary.target.goodputFraction)} SLO goodput`;
    }
    const f = a.fewest;
    const pools = f.prefillGpus === 0
      ? `${f.decodeGpus} shared`
      : `${f.prefillGpus}+${f.decodeGpus}`;
    return `${at}: fewest GPUs meeting ${
      pct(summary.target.goodputFraction)
    } SLO goodput: ${f.gpus} (${pools}), goodput ${
      pct(f.minGoodputFraction)
    } at worst over ${f.seeds} seed${f.seeds === 1 ? "" : "s"}`;
  });
}
