/**
 * Simulation speed (issue 3, item 7). Targets on this 2-core machine: one hour of the Azure conv
 * trace (19,366 requests) on 16 GPUs in <= 2 s; one million synthetic requests in <= 30 s with
 * bounded memory (see bench/sim_memory.ts for the memory side). Each entry simulates one policy
 * (fn must be declared async: deno bench only awaits async functions, not promise-returning ones)
 * with no artifacts written. The Azure entries replay the shipped trace (data/, short name
 * `azure-conv`). Results: bench/RESULTS.md.
 */
import { resolveSimConfig } from "../src/sim/config.ts";
import { type Mode, runComparison } from "../src/sim/run.ts";

const FLEET = { prefillGpus: 4, decodeGpus: 12 };

async function simulate(config: Record<string, unknown>, mode: Mode): Promise<void> {
  const runs = await runComparison(resolveSimConfig({ ...FLEET, ...config }), {
    mode,
    outDir: null,
    runId: "bench",
  });
  if (runs[0].summary.requests.completed === 0) throw new Error("nothing completed");
}

const azure = {
  workload: { kind: "trace", format: "azure", path: "azure-conv", options: { rateScale: 1 } },
};
for (const [mode, policy] of [["baseline", "round robin"], ["optimized", "predictive"]] as const) {
  Deno.bench({
    name: `Azure conv 1 h (19,366 requests), 16 GPUs, ${policy}`,
    group: "azure hour",
    baseline: mode === "baseline",
    n: 3,
    warmup: 1,
    fn: async () => await simulate(azure, mode),
  });
}

// 80 req/s keeps this fleet busy but stable (at 150 req/s round robin's queues grow without bound).
const million = {
  workload: { kind: "preset", name: "poisson", overrides: { requests: 1_000_000, ratePerSec: 80 } },
};
for (const [mode, policy] of [["baseline", "round robin"], ["optimized", "predictive"]] as const) {
  Deno.bench({
    name: `1,000,000 synthetic requests, 16 GPUs, ${policy}`,
    group: "million",
    baseline: mode === "baseline",
    n: 1,
    warmup: 0,
    fn: async () => await simulate(million, mode),
  });
}
