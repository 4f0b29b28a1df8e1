/**
 * Folding a league's runs into standings: per scenario and policy, the median over seeds of
 * each league metric with its range, who is best in each column, and whether the predictive
 * policy meets its targets (bench/LEAGUE.md):
 *
 * - SLO goodput: the best of all policies (within `GOODPUT_TIE` of the best other counts);
 * - TTFT p95: no worse than the best other policy;
 * - TPOT p99: within `TPOT_P99_SLACK` x the best other policy.
 */
import type { PolicyName } from "../core/policies.ts";
import type { RunSummary } from "../metrics/run_metrics.ts";

export const METRICS = [
  { key: "goodput", label: "goodput", better: "higher", digits: 3 },
  { key: "ttftP50", label: "TTFT p50", better: "lower", digits: 0 },
  { key: "ttftP95", label: "TTFT p95", better: "lower", digits: 0 },
  { key: "ttftP99", label: "TTFT p99", better: "lower", digits: 0 },
  { key: "tpotP50", label: "TPOT p50", better: "lower", digits: 2 },
  { key: "tpotP99", label: "TPOT p99", better: "lower", digits: 2 },
] as const;

export type MetricKey = typeof METRICS[number]["key"];
export type Metrics = Record<MetricKey, number>;

export const GOODPUT_TIE = 0.005;
export const TPOT_P99_SLACK = 1.1;

/**
 * A run's league metrics. A run that served no request has no latency, not 0 ms: its
 * latencies rank as +Infinity (worst), printed "none served".
 */
export function metricsOf(s: RunSummary): Metrics {
  const served = s.requests.completed > 0;
  const latency = (x: number) => served ? x : Infinity;
  return {
    goodput: s.goodput.fraction,
    ttftP50: latency(s.ttftMs.p50),
    ttftP95: latency(s.ttftMs.p95),
    ttftP99: latency(s.ttftMs.p99),
    tpotP50: latency(s.tpotMs.p50),
    tpotP99: latency(s.tpotMs.p99),
  };
}

export interface Standing {
  readonly policy: PolicyName;
  /** Median over seeds (the middle value; the mean of the two middle ones for an even count). */
  readonly median: Metrics;
  readonly min: Metrics;
  readonly max: Metrics;
  readonly seeds: number;
}

export interface TargetCheck {
  readonly target: string;
  readonly met: boolean;
  /** Predictive's value, the best other's and who that is. */
  readonly value: number;
  readonly bestOther: number;
  readonly bestOtherPolicy: PolicyName;
}

export interface ScenarioStandings {
  readonly scenario: string;
  readonly reason: string;
  readonly standings: Standing[];
  /** Per metric, the policies with the best median (ties all listed). */
  readonly best: Record<MetricKey, PolicyName[]>;
  /** Predictive's targets, when predictive and at least one other policy ran. */
  readonly targets: TargetCheck[];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fold(runs: readonly Metrics[], f: (xs: number[]) => number): Metrics {
  const out = {} as Metrics;
  for (const { key } of METRICS) out[key] = f(runs.map((r) => r[key]));
  return out;
}

export function standingOf(policy: PolicyName, runs: readonly RunSummary[]): Standing {
  const m = runs.map(metricsOf);
  return {
    policy,
    median: fold(m, median),
    min: fold(m, (xs) => Math.min(...xs)),
    max: fold(m, (xs) => Math.max(...xs)),
    seeds: runs.length,
  };
}

export function scenarioStandings(
  scenario: string,
  reason: string,
  standings: Standing[],
): ScenarioStandings {
  const best = {} as Record<MetricKey, PolicyName[]>;
  for (const { key, better } of METRICS) {
    const values = standings.map((s) => s.median[key]);
    const top = better === "higher" ? Math.max(...values) : Math.min(...values);
    best[key] = standings.filter((s) => s.median[key] === top).map((s) => s.policy);
  }
  return { scenario, reason, standings, best, targets: targetsOf(standings) };
}

function targetsOf(standings: readonly Standing[]): TargetCheck[] {
  const p = standings.find((s) => s.policy === "predictive");
  const others = standings.filter((s) => s.policy !== "predictive");
  if (!p || others.length === 0) return [];
  const bestBy = (key: MetricKey, higher: boolean) =>
    others.reduce((a, b) =>
      (higher ? b.median[key] > a.median[key] : b.median[key] < a.median[key]) ? b : a
    );
  const g = bestBy("goodput", true), t = bestBy("ttftP95", false), q = bestBy("tpotP99", false);
  return [
    {
      target: `SLO goodput best (tie within ${GOODPUT_TIE})`,
      met: p.median.goodput >= g.median.goodput - GOODPUT_TIE,
      value: p.median.goodput,
      bestOther: g.median.goodput,
      bestOtherPolicy: g.policy,
    },
    {
      target: "TTFT p95 no worse than the best other",
      met: p.median.ttftP95 <= t.median.ttftP95,
      value: p.median.ttftP95,
      bestOther: t.median.ttftP95,
      bestOtherPolicy: t.policy,
    },
    {
      target: `TPOT p99 within ${TPOT_P99_SLACK}x the best other`,
      met: p.median.tpotP99 <= TPOT_P99_SLACK * q.median.tpotP99,
      value: p.median.tpotP99,
      bestOther: q.median.tpotP99,
      bestOtherPolicy: q.policy,
    },
  ];
}
