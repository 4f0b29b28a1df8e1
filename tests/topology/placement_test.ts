import { deepEqual, equal, ok } from "node:assert/strict";
import { DEFAULT_POLICY_CONFIG, resolvePolicyConfig } from "../../src/core/config.ts";
import { TopologyInputError } from "../../src/topology/errors.ts";
import { loadPlacement } from "../../src/topology/load.ts";
import {
  applyPlacement,
  defaultPlacement,
  placeEndpoints,
  placeFleet,
} from "../../src/topology/placement.ts";
import { probeTopology } from "../../src/topology/probe.ts";
import { fixtureEnv, rejects } from "./_fixtures.ts";

const CASES = [
  "dgx-h100",
  "pcie-8gpu-2numa",
  "workstation-2gpu",
  "a100-mig-vm",
  "nvlink-bridge-8gpu",
  "dgx1-p100-legacy",
];
const docs = Object.fromEntries(
  await Promise.all(CASES.map(async (c) => [c, await probeTopology(fixtureEnv(c))] as const)),
);
const all = (name: string) => docs[name].gpus.map((g) => g.index);
const fields = (name: string, gpus = all(name)) =>
  placeEndpoints(docs[name], gpus).endpoints.map((e) => [e.numaNode, e.nvlinkDomain]);

Deno.test("placement: NVLink domains are the connected components of NV# links", () => {
  deepEqual(fields("dgx-h100"), [...Array(4).fill([0, 0]), ...Array(4).fill([1, 0])]);
  deepEqual(fields("nvlink-bridge-8gpu").map(([, d]) => d), [0, 0, 1, 1, 2, 2, 3, 3]);
  deepEqual(fields("nvlink-bridge-8gpu", [6, 2, 3]).map(([, d]) => d), [0, 1, 1]);
  deepEqual(fields("pcie-8gpu-2numa").map(([, d]) => d), Array(8).fill(-1));
  // The hybrid cube-mesh is one component although GPU0 and GPU5 share no NVLink.
  deepEqual(fields("dgx1-p100-legacy").map(([, d]) => d), Array(8).fill(0));
});

Deno.test("placement: MIG GPUs get no NVLink domain; unknown NUMA falls back to node 0", () => {
  const placed = placeEndpoints(docs["a100-mig-vm"], [0, 1]);
  deepEqual(placed.endpoints.map((e) => [e.numaNode, e.nvlinkDomain, e.osNumaNode]), [
    [0, -1, null],
    [0, -1, null],
  ]);
  ok(placed.notes.some((n) => n.includes("GPU 0's NUMA node is unknown")));
  ok(
    placed.notes.some((n) =>
      n.includes("GPUs 0-1: NV12 (nvlink) but the core treats them as pcie")
    ),
  );
});

Deno.test("placement links: slowest estimate per class among the endpoints' pairs, monotone", () => {
  deepEqual(placeEndpoints(docs["pcie-8gpu-2numa"], all("pcie-8gpu-2numa")).links, {
    nvlink: DEFAULT_POLICY_CONFIG.links.nvlink, // no NVLink pair: the default stays
    pcie: { gbps: 18, latencyMs: 0.025 }, // NODE is the slowest same-node path
    crossNuma: { gbps: 12, latencyMs: 0.03 }, // SYS
    network: { gbps: 12, latencyMs: 0.1 }, // default 12.5 GB/s clamped to crossNuma's 12
  });
  equal(placeEndpoints(docs["pcie-8gpu-2numa"], [0, 1, 2]).links.pcie.gbps, 22, "PIX and PXB");
  deepEqual(placeEndpoints(docs["dgx-h100"], all("dgx-h100")).links.nvlink, {
    gbps: 450,
    latencyMs: 0.01,
  });
  // DGX-1: NV1 (20 GB/s) is the slowest NVLink pair; the pcie default (25) is clamped to it.
  const dgx1 = placeEndpoints(docs["dgx1-p100-legacy"], all("dgx1-p100-legacy"));
  deepEqual([dgx1.links.nvlink.gbps, dgx1.links.pcie.gbps], [20, 20]);
  equal(
    dgx1.notes.filter((n) => n.includes("(crossNuma) but the core treats them as nvlink")).length,
    12,
  );
  for (const name of CASES) {
    const { links } = placeEndpoints(docs[name], all(name));
    deepEqual(resolvePolicyConfig({ links }).links, links, `${name}: the core accepts it`);
  }
});

Deno.test("placement: slab cost scales by NUMA distance from the GPU to its slab", () => {
  const scale = (name: string, gpus: number[], slab: "local" | "interleave" | number) =>
    placeEndpoints(docs[name], gpus, { slab }).endpoints.map((e) => e.slabScale);
  deepEqual(scale("pcie-8gpu-2numa", [0, 4], "local"), [1, 1]);
  deepEqual(scale("pcie-8gpu-2numa", [0, 4], 0), [1, 2.1]);
  deepEqual(scale("pcie-8gpu-2numa", [0, 4], "interleave"), [1.55, 1.55]);
  deepEqual(scale("nvlink-bridge-8gpu", [5], 0), [3.2]);
  deepEqual(scale("a100-mig-vm", [1], 0), [1], "unknown NUMA node: not scaled");
  const perEndpoint = placeEndpoints(docs["pcie-8gpu-2numa"], [{ gpu: 4, slab: 1 }, {
    gpu: 4,
    slab: 0,
  }]);
  deepEqual(perEndpoint.endpoints.map((e) => e.slabScale), [1, 2.1]);
  const spec = applyPlacement(
    {
      role: "decode",
      prefillTokensPerMs: 1,
      decodeBaseMs: 1,
      decodeMsPerKvBlock: 0,
      kvCapacityBlocks: 1,
      slabMsPerBlock: 0.01,
    },
    perEndpoint.endpoints[1],
  );
  deepEqual([spec.hostId, spec.numaNode, spec.nvlinkDomain, spec.slabMsPerBlock], [
    0,
    1,
    -1,
    0.021,
  ]);
});

Deno.test("placement over hosts: host ids by position, NVLink domains never shared across hosts", () => {
  const doc = docs["nvlink-bridge-8gpu"];
  const fleet = placeFleet([
    { topology: doc, endpoints: [0, 1, 4] },
    { topology: doc, endpoints: [2, 3] },
  ]);
  deepEqual(fleet.endpoints.map((e) => [e.hostId, e.nvlinkDomain]), [
    [0, 0],
    [0, 0],
    [0, 1],
    [1, 2],
    [1, 2],
  ]);
});

Deno.test("placement errors name the endpoint, the GPU and what exists", async () => {
  await rejects(
    () => placeEndpoints(docs["workstation-2gpu"], [0, 9]),
    TopologyInputError,
    "endpoint 1 (host 0, workstation-2gpu)",
    "GPU 9 is not in its topology (GPUs 0, 1)",
  );
  await rejects(
    () => placeEndpoints(docs["pcie-8gpu-2numa"], [0], { slab: 5 }),
    TopologyInputError,
    "NUMA node 5",
    "(nodes 0, 1)",
  );
  const empty = await probeTopology(
    fixtureEnv("workstation-2gpu", { commands: { query: { kind: "missing" } } }),
  );
  await rejects(
    () => placeEndpoints(empty, [0]),
    TopologyInputError,
    "has no GPUs (status unavailable: nvidia-smi is not on PATH",
  );
});

Deno.test("without a topology: the documented default, all pairs equal", async () => {
  const placement = defaultPlacement(3);
  deepEqual(placement.endpoints.map((e) => [e.hostId, e.numaNode, e.nvlinkDomain, e.slabScale]), [
    [0, 0, -1, 1],
    [0, 0, -1, 1],
    [0, 0, -1, 1],
  ]);
  deepEqual(placement.links, DEFAULT_POLICY_CONFIG.links);
  deepEqual(await loadPlacement(undefined, [4, 5, 6]), placement);
  await rejects(() => defaultPlacement(-1), TopologyInputError, "'count'", "-1");
});
