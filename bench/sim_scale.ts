/**
 * Simulator cost per request as the fleet grows (issue 15): one policy on a fleet of `gpus`
 * GPUs (a quarter prefill, the rest decode, conditional disaggregation) under Poisson arrivals
 * at `perGpu` req/s per GPU, no artifacts. Prints one JSON line: wall time of the simulation
 * itself (start-up and the WASM build excluded), microseconds per simulated request, the
 * process's CPU time over the same stretch, peak RSS (sampled every 50 ms and at progress
 * calls, at most every 20 ms), and the run's quality (goodput, TTFT p95).
 *
 *   deno run -A bench/sim_scale.ts GPUS REQUESTS MODE [PER_GPU_RATE] [CANDIDATE_SAMPLE]
 *
 * MODE is baseline (round robin) or optimized (predictive); CANDIDATE_SAMPLE sets the
 * predictive policy's `candidateSample` (0: exhaustive). bench/sim_scale.sh runs the table
 * recorded in bench/RESULTS.md, one process per cell.
 */
import { cpuUsage } from "node:process";
import { resolveSimConfig } from "../src/sim/config.ts";
import { runComparison } from "../src/sim/run.ts";

const gpus = Number(Deno.args[0] ?? 16);
const requests = Number(Deno.args[1] ?? 60_000);
const mode = (Deno.args[2] ?? "baseline") as "baseline" | "optimized";
const perGpu = Number(Deno.args[3] ?? 5);
const sample = Number(Deno.args[4] ?? 0);
const prefillGpus = gpus / 4;
let peak = 0, probedAt = 0;
// Deno.memoryUsage costs ~0.1 ms: at most one probe per 20 ms of wall time.
const probe = () => {
  const now = performance.now();
  if (now - probedAt < 20) return;
  probedAt = now;
  peak = Math.max(peak, Deno.memoryUsage().rss);
};
const timer = setInterval(probe, 50);
const config = resolveSimConfig({
  prefillGpus,
  decodeGpus: gpus - prefillGpus,
  policy: sample > 0 ? { predictive: { candidateSample: sample } } : {},
  workload: {
    kind: "preset",
    name: "poisson",
    overrides: { requests, ratePerSec: gpus * perGpu },
  },
});
const started = performance.now();
const cpu0 = cpuUsage();
const [run] = await runComparison(config, {
  mode,
  outDir: null,
  runId: "scale",
  onProgress: probe,
});
const wall = performance.now() - started;
const cpu = cpuUsage(cpu0);
clearInterval(timer);
probedAt = 0;
probe();
const s = run.summary;
console.log(JSON.stringify({
  gpus,
  rate: gpus * perGpu,
  requests,
  mode,
  candidateSample: sample,
  wallSeconds: Math.round(wall / 10) / 100,
  usPerRequest: Math.round(wall * 1000 / requests * 10) / 10,
  cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
  simulatedSeconds: Math.round(s.durationMs / 100) / 10,
  peakRssMiB: Math.round(peak / 2 ** 20),
  completed: s.requests.completed,
  goodputFraction: s.goodput.fraction,
  ttftP95Ms: s.ttftMs.p95,
}));
