/**
 * Per-pool and per-GPU tables for pool comparisons: TTFT by prefill pool, queue depth by pool,
 * and each GPU's admissions (prefills and decodes it took), one column per run.
 */
import Table from "cli-table3";
import type { RunSummary } from "../../metrics/run_metrics.ts";

const style = {
  style: { head: [], border: [] },
  chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
};

const ms = (x: number | undefined) => x === undefined ? "-" : x.toFixed(1);

export function poolTable(runs: readonly { label: string; summary: RunSummary }[]): string {
  const table = new Table({ head: ["pool", "metric", ...runs.map((r) => r.label)], ...style });
  const pools = [...new Set(runs.flatMap((r) => Object.keys(r.summary.queueDepth.meanByPool)))];
  for (const pool of pools.sort()) {
    const ttft = runs.map((r) => r.summary.ttftByPool[pool]);
    if (ttft.some((t) => t !== undefined)) {
      table.push([pool, "TTFT p50 (ms)", ...ttft.map((t) => ms(t?.p50))]);
      table.push([pool, "TTFT p95 (ms)", ...ttft.map((t) => ms(t?.p95))]);
    }
    table.push([
      pool,
      "queue depth mean / max",
      ...runs.map((r) => {
        const mean = r.summary.queueDepth.meanByPool[pool];
        const max = r.summary.queueDepth.maxByPool[pool];
        return mean === undefined ? "-" : `${mean.toFixed(2)} / ${max}`;
      }),
    ]);
  }
  return table.toString();
}

export function gpuTable(runs: readonly { label: string; summary: RunSummary }[]): string {
  const table = new Table({
    head: ["GPU", ...runs.map((r) => `${r.label}: pool, prefills / decodes`)],
    ...style,
  });
  const gpus = [...new Set(runs.flatMap((r) => r.summary.perGpu.map((g) => g.gpu)))].sort((a, b) =>
    a - b
  );
  for (const gpu of gpus) {
    table.push([
      String(gpu),
      ...runs.map((r) => {
        const g = r.summary.perGpu.find((x) => x.gpu === gpu);
        return g ? `${g.pool}, ${g.prefills} / ${g.decodes}` : "-";
      }),
    ]);
  }
  return table.toString();
}
