/**
 * Runs a sweep into `<out>/<name>/`:
 *
 *   spec.json                     the spec as given (after defaults)
 *   points/<group>/config.json    each grid point's resolved simulation config
 *   points/<group>/<policy>/      one run directory per policy (summary.json, requests.csv, ...)
 *   sweep.csv, sweep.json         one row per point; configurations, answers, Pareto front
 *   sweep.html                    the page (src/report/sweep_page.ts)
 *
 * The points run on local worker threads (`jobs`) or on `pdroute worker` processes through a
 * NATS JetStream queue (src/sweep/queue.ts); every file is the same either way.
 */
import { writeJson } from "../io/json_file.ts";
import type { RunSummary } from "../metrics/run_metrics.ts";
import { renderSweepPage } from "../report/sweep_page.ts";
import { runSpecs } from "../sim/parallel.ts";
import { expandSweep, type SweepPoint, type SweepSpec } from "./spec.ts";
import { summarizeSweep, sweepCsv, type SweepSummary } from "./summary.ts";

export interface SweepOptions {
  readonly out: string;
  readonly name: string;
  readonly jobs: number;
  /** nats://host:port: run the points on `pdroute worker` processes instead. */
  readonly queue?: string;
  /** With `queue`: how long a silent worker keeps a point (src/sweep/queue.ts). */
  readonly ackWaitMs?: number;
  readonly report?: boolean;
  /** Each point as it finishes (finishing order). */
  readonly onPoint?: (point: SweepPoint, summary: RunSummary, done: number, total: number) => void;
}

export async function runSweep(
  spec: SweepSpec,
  options: SweepOptions,
): Promise<{ dir: string; summary: SweepSummary; points: readonly SweepPoint[] }> {
  const dir = `${options.out}/${options.name}`;
  const points = expandSweep(spec, dir);
  Deno.mkdirSync(dir, { recursive: true });
  writeJson(`${dir}/spec.json`, spec);
  for (const p of points) {
    Deno.mkdirSync(`${dir}/points/${p.group}`, { recursive: true });
    writeJson(`${dir}/points/${p.group}/config.json`, p.run.config);
  }
  let done = 0;
  const finished = (i: number, summary: RunSummary) =>
    options.onPoint?.(points[i], summary, ++done, points.length);
  let summaries: RunSummary[];
  if (options.queue) {
    const { runOnQueue } = await import("./queue.ts");
    summaries = await runOnQueue(options.queue, options.name, points, finished, options.ackWaitMs);
  } else {
    const runs = await runSpecs(points.map((p) => p.run), {
      jobs: options.jobs,
      onDone: (i, run) => finished(i, run.summary),
    });
    summaries = runs.map((r) => r.summary);
  }
  const summary = summarizeSweep(options.name, spec, points, summaries);
  writeJson(`${dir}/sweep.json`, summary);
  Deno.writeTextFileSync(`${dir}/sweep.csv`, sweepCsv(summary));
  if (options.report !== false) {
    Deno.writeTextFileSync(`${dir}/sweep.html`, await renderSweepPage(summary));
  }
  return { dir, summary, points };
}
