/**
 * Memory stays bounded however long the run: peak RSS simulating 100k vs 1M synthetic requests
 * (same fleet and rate as bench/sim_bench.ts). Run: deno run -A bench/sim_memory.ts [requests]
 * Prints one JSON line; bench/RESULTS.md records what it printed.
 */
import { resolveSimConfig } from "../src/sim/config.ts";
import { runComparison } from "../src/sim/run.ts";

const requests = Number(Deno.args[0] ?? 1_000_000);
const mode = (Deno.args[1] ?? "optimized") as "baseline" | "optimized";
let peak = 0;
const sample = () => (peak = Math.max(peak, Deno.memoryUsage().rss));
const timer = setInterval(sample, 50);
const started = performance.now();
const [run] = await runComparison(
  resolveSimConfig({
    prefillGpus: 4,
    decodeGpus: 12,
    workload: { kind: "preset", name: "poisson", overrides: { requests, ratePerSec: 80 } },
  }),
  { mode, outDir: null, runId: "memory", onProgress: sample },
);
clearInterval(timer);
sample();
console.log(JSON.stringify({
  requests,
  mode,
  completed: run.summary.requests.completed,
  wallSeconds: Math.round((performance.now() - started) / 100) / 10,
  peakRssMiB: Math.round(peak / 2 ** 20),
}));
