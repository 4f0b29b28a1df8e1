/**
 * The driver against emulators behind routers it starts: round robin vs the predictive
 * policy, shared vs dual pools, and the artifacts in exactly the simulator's format.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { type EngineSpec, fleetRuns, runFleetComparison } from "../../src/drive/compare.ts";
import type { DriveOptions } from "../../src/drive/load.ts";
import { REQUEST_CSV_HEADER, TIMELINE_CSV_HEADER } from "../../src/metrics/run_metrics.ts";
import { resolveSimConfig } from "../../src/sim/config.ts";
import { runComparison } from "../../src/sim/run.ts";
import { resolveWorkload, type WorkloadSpec } from "../../src/workload/resolve.ts";
import { SPEED, startEngines } from "../_live.ts";

/** Shared system prompts (KV locality to exploit), short answers. */
const WORKLOAD: WorkloadSpec = {
  kind: "synthetic",
  requests: 48,
  ratePerSec: 12,
  arrival: "poisson",
  burstFactor: 1,
  burstOnMs: 1000,
  burstOffMs: 0,
  waveGapMs: 0,
  longFraction: 0,
  shortPrompt: { median: 400, sigma: 0.3, min: 100, max: 1000 },
  longPrompt: { median: 4000, sigma: 0.3, min: 2048, max: 8000 },
  output: { median: 40, sigma: 0.3, min: 8, max: 80 },
  prefixGroups: 4,
  prefixTokens: 2048,
  prefixZipf: 0.5,
  prefixShare: 1,
};

function driveOptions(): Omit<DriveOptions, "label" | "target" | "dir"> {
  return {
    workload: resolveWorkload(WORKLOAD, 7),
    seed: 7,
    api: "completions",
    model: "emulated",
    stream: true,
    mode: { kind: "open" },
    timeScale: SPEED,
    prefixBlockTokens: 512,
    sampleIntervalMs: 500,
    requestTimeoutMs: 20_000,
    sloTtftMs: 2000,
    sloTpotMs: 50,
    longPromptTokens: 2048,
    gpusPerEngine: 1,
    gpuCostPerHour: 3,
  };
}

async function engines(n: number): Promise<{ specs: EngineSpec[]; close: () => Promise<void> }> {
  const list = await startEngines(Array.from({ length: n }, () => ({})));
  return {
    specs: list.map((e, i) => ({ url: e.url, gpu: i })),
    close: async () => {
      await Promise.all(list.map((e) => e.close()));
    },
  };
}

Deno.test("drive: round robin vs predictive on live emulators; predictive keeps prefixes local", async () => {
  const fleet = await engines(2);
  try {
    const root = await Deno.makeTempDir({ prefix: "pdroute-drive-" });
    const runs = await runFleetComparison(
      fleetRuns(["shared"], ["round-robin", "predictive"]),
      fleet.specs,
      1,
      { engineSpeed: SPEED },
      driveOptions(),
      root,
    );
    deepEqual(runs.map((r) => r.run.label), ["baseline", "optimized"]);
    const [rr, pred] = runs.map((r) => r.result.summary);
    for (const s of [rr, pred]) {
      equal(s.requests.completed, 48, JSON.stringify(s.requests));
      equal(s.disaggregated, 0);
    }
    equal(rr.run.policy, "round-robin");
    equal(pred.run.policy, "predictive");
    ok(
      pred.prefix.hitRate > rr.prefix.hitRate,
      `prefix hit rate: predictive ${pred.prefix.hitRate} vs round robin ${rr.prefix.hitRate}`,
    );
    // Round robin alternates, whatever the load.
    const [g0, g1] = rr.perGpu;
    ok(Math.abs(g0.decodes - g1.decodes) <= 1, JSON.stringify(rr.perGpu));
    await Deno.remove(root, { recursive: true });
  } finally {
    await fleet.close();
  }
});

Deno.test("drive: shared vs dual pools - per-pool TTFT, queue depth and per-GPU admissions", async () => {
  const fleet = await engines(3);
  try {
    const runs = await runFleetComparison(
      fleetRuns(["shared", "dual"], ["predictive"]),
      fleet.specs,
      1,
      { engineSpeed: SPEED },
      driveOptions(),
      null,
    );
    const [shared, dual] = runs.map((r) => r.result.summary);
    equal(shared.run.layout, "shared");
    equal(dual.run.layout, "dual");
    equal(shared.requests.completed, 48);
    equal(dual.requests.completed, 48);
    equal(shared.disaggregated, 0);
    equal(dual.disaggregated, 48);
    deepEqual(Object.keys(shared.ttftByPool), ["shared"]);
    deepEqual(Object.keys(dual.ttftByPool), ["prefill"]);
    deepEqual(Object.keys(dual.queueDepth.meanByPool).sort(), ["decode", "prefill"]);
    deepEqual(dual.perGpu.map((g) => [g.pool, g.prefills > 0, g.decodes > 0]), [
      ["prefill", true, false],
      ["decode", false, true],
      ["decode", false, true],
    ]);
    equal(dual.perGpu[0].prefills, 48);
    equal(dual.perGpu[1].decodes + dual.perGpu[2].decodes, 48);
    equal(shared.perGpu.reduce((n, g) => n + g.prefills, 0), 48);
    ok(shared.perGpu.every((g) => g.pool === "shared"));
  } finally {
    await fleet.close();
  }
});

Deno.test("drive artifacts have the simulator's format: same files, headers and summary keys", async () => {
  const fleet = await engines(2);
  const root = await Deno.makeTempDir({ prefix: "pdroute-drive-" });
  try {
    const [live] = await runFleetComparison(
      fleetRuns(["shared"], ["predictive"]),
      fleet.specs,
      1,
      { engineSpeed: SPEED },
      { ...driveOptions(), workload: resolveWorkload({ ...WORKLOAD, requests: 12 }, 7) },
      root,
    );
    const dir = live.dir!;
    const requests = (await Deno.readTextFile(`${dir}/requests.csv`)).trimEnd().split("\n");
    equal(requests[0], REQUEST_CSV_HEADER);
    equal(requests.length, 13);
    const timeline = (await Deno.readTextFile(`${dir}/timeline.csv`)).trimEnd().split("\n");
    equal(timeline[0], TIMELINE_CSV_HEADER);
    ok(timeline.length > 2, "sampled at least once");
    const driven = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
    const config = resolveSimConfig({
      layout: "shared",
      gpus: 2,
      workload: { ...WORKLOAD, requests: 12 },
    });
    const [sim] = await runComparison(config, { mode: "optimized", outDir: null, runId: "x" });
    // Every key path; per-pool maps are keyed by pool names, so only their presence counts.
    const keys = (o: unknown, at = ""): string[] => {
      if (typeof o !== "object" || o === null || Array.isArray(o)) return [];
      return Object.entries(o).flatMap(([k, v]) =>
        k.endsWith("ByPool") ? [`${at}${k}`] : [`${at}${k}`, ...keys(v, `${at}${k}.`)]
      );
    };
    deepEqual(keys(driven), keys(JSON.parse(JSON.stringify(sim.summary))));
    ok(await Deno.stat(`${dir}/config.json`));
  } finally {
    await fleet.close();
    await Deno.remove(root, { recursive: true });
  }
});
