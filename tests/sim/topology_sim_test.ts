/**
 * The simulator consumes topology documents: the same fleet and workload give different
 * results when only the topology changes (here: whether prefill and decode GPUs share an
 * NVLink domain, which sets the KV transfer cost), and a bad document is a clear error.
 */
import { ok, rejects } from "node:assert/strict";
import { resolveSimConfig } from "../../src/sim/config.ts";
import { runComparison } from "../../src/sim/run.ts";
import { probeTopology, writeTopology } from "../../src/topology/mod.ts";
import { fixtureEnv } from "../topology/_fixtures.ts";

async function topologyFile(fixture: string): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await writeTopology(path, await probeTopology(fixtureEnv(fixture)));
  return path;
}

async function ttftP50(topology: string | undefined): Promise<number> {
  const config = resolveSimConfig({
    layout: "dual",
    prefillGpus: [0, 1],
    decodeGpus: [2, 3],
    ...(topology && { topology }),
    workload: {
      kind: "preset",
      name: "poisson",
      overrides: { requests: 300, ratePerSec: 4, longFraction: 1 },
    },
  });
  const [run] = await runComparison(config, { mode: "optimized", outDir: null, runId: "t" });
  return run.summary.ttftMs.p50;
}

Deno.test("KV transfer follows the topology: NVLink (DGX H100) beats PCIe across NUMA nodes", async () => {
  const nvlink = await ttftP50(await topologyFile("dgx-h100"));
  const pcie = await ttftP50(await topologyFile("pcie-8gpu-2numa"));
  const flat = await ttftP50(undefined);
  ok(nvlink < pcie, `NVLink ${nvlink} ms vs PCIe server ${pcie} ms`);
  ok(nvlink < flat, `NVLink ${nvlink} ms vs the all-pairs-equal default ${flat} ms`);
});

Deno.test("a missing or malformed topology document is reported by name", async () => {
  await rejects(ttftP50("/nonexistent/topology.json"), /nonexistent\/topology\.json/);
  const bad = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(bad, '{"schemaVersion": 99}');
  await rejects(ttftP50(bad), (e: unknown) => String(e).includes(bad));
});
