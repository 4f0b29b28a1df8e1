import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { ToolOutputError } from "../../src/topology/errors.ts";
import { denoCommandRunner, denoFs, systemProbeEnv } from "../../src/topology/host.ts";
import { parseTopology } from "../../src/topology/load.ts";
import { probeTopology } from "../../src/topology/probe.ts";
import type { TopologyDocument } from "../../src/topology/schema.ts";
import { NODE_DIR } from "../../src/topology/sysfs.ts";
import { fixtureEnv, fixtureText, memoryFs, rejects, sysfsFiles } from "./_fixtures.ts";

const pair = (doc: TopologyDocument, a: number, b: number) =>
  doc.links.pairs.find((p) => p.a === a && p.b === b)!;

Deno.test("probe: DGX H100 is complete; every pair NVLink at 18 x 25 GB/s", async () => {
  const doc = await probeTopology(fixtureEnv("dgx-h100"));
  equal(doc.status, "complete");
  deepEqual(doc.reasons, []);
  deepEqual(doc.gpus.map((g) => [g.numaNode, g.numaSource]), [
    ...Array(4).fill([0, "sysfs"]),
    ...Array(4).fill([1, "sysfs"]),
  ]);
  equal(doc.links.pairs.length, 28);
  ok(doc.links.pairs.every((p) => p.class === "nvlink" && p.gbps === 450 && p.nvlinks === 18));
  equal(doc.links.nics.length, 12);
  deepEqual(doc.numa.distances, [[10, 21], [21, 10]]);
});

Deno.test("probe: PCIe server maps PIX/PXB/NODE to pcie and SYS to crossNuma", async () => {
  const doc = await probeTopology(fixtureEnv("pcie-8gpu-2numa"));
  equal(doc.status, "complete");
  deepEqual(
    [pair(doc, 0, 1), pair(doc, 0, 2), pair(doc, 4, 6), pair(doc, 3, 4)].map((p) => [
      p.topo,
      p.class,
      p.gbps,
    ]),
    [["PIX", "pcie", 24], ["PXB", "pcie", 22], ["NODE", "pcie", 18], ["SYS", "crossNuma", 12]],
  );
  equal(doc.gpus[4].cpuAffinity, "32-63,96-127");
});

Deno.test("probe: workstation with numa_node -1 takes nvidia-smi's NUMA affinity", async () => {
  const doc = await probeTopology(fixtureEnv("workstation-2gpu"));
  equal(doc.status, "complete");
  deepEqual(doc.gpus.map((g) => [g.numaNode, g.numaSource]), [[0, "nvidia-smi"], [
    0,
    "nvidia-smi",
  ]]);
  equal(pair(doc, 0, 1).topo, "PHB");
});

Deno.test("probe: MIG VM resolves CUDA_VISIBLE_DEVICES via nvidia-smi -L; unknown NUMA is partial", async () => {
  const env = fixtureEnv("a100-mig-vm");
  const doc = await probeTopology(env);
  deepEqual(env.calls, ["query", "list", "topo"]);
  equal(doc.status, "partial");
  deepEqual(doc.cudaVisibleDevices?.devices.map((d) => [d.cudaIndex, d.gpu, d.mig]), [
    [0, 0, true],
    [1, 1, false],
  ]);
  deepEqual(doc.gpus.map((g) => [g.mig, g.numaNode]), [[true, null], [false, null]]);
  equal(doc.reasons.length, 2);
  ok(doc.reasons.every((r) => r.includes("NUMA node unknown") && r.includes("is -1")));
});

Deno.test("probe: legacy DGX-1 output (SOC, mlx5 labels, CRLF) is complete", async () => {
  const doc = await probeTopology(fixtureEnv("dgx1-p100-legacy"));
  equal(doc.status, "complete");
  equal(pair(doc, 0, 5).topo, "SYS");
  equal(pair(doc, 0, 3).gbps, 40, "NV2 on P100: NVLink 1.0 is 20 GB/s per link");
  equal(doc.gpus[0].numaAffinity, null);
  equal(doc.gpus[0].pciBusId, "0000:06:00.0");
});

Deno.test("probe: no nvidia-smi is a valid answer: GPUs unavailable, host NUMA kept", async () => {
  const env = fixtureEnv("pcie-8gpu-2numa", {
    commands: { query: { kind: "missing" }, topo: { kind: "missing" } },
  });
  const doc = await probeTopology(env);
  equal(doc.status, "unavailable");
  deepEqual(doc.gpus, []);
  equal(doc.numa.nodes.length, 2);
  ok(doc.reasons[0].includes("nvidia-smi is not on PATH"));
  deepEqual(env.calls, ["query"], "no topo -m without GPUs");
});

Deno.test("probe: tool failures and timeouts become reasons, not crashes", async () => {
  const topoFails = await probeTopology(fixtureEnv("pcie-8gpu-2numa", {
    commands: { topo: { kind: "failed", code: 9, stderr: "Unable to determine the topology\n" } },
  }));
  equal(topoFails.status, "partial");
  equal(topoFails.links.available, false);
  equal(topoFails.gpus[0].numaNode, 0, "sysfs still places the GPUs");
  ok(topoFails.reasons[0].includes("exited with status 9: Unable to determine the topology"));
  const hung = await probeTopology(fixtureEnv("pcie-8gpu-2numa", {
    commands: { query: { kind: "timeout", timeoutMs: 10000 } },
  }));
  equal(hung.status, "unavailable");
  ok(hung.reasons[0].includes("did not finish within 10000 ms"));
});

Deno.test("probe: CUDA_VISIBLE_DEVICES restricts GPUs and pairs", async () => {
  const doc = await probeTopology(
    fixtureEnv("pcie-8gpu-2numa", { env: { CUDA_VISIBLE_DEVICES: "6,1" } }),
  );
  equal(doc.status, "complete");
  deepEqual(doc.gpus.map((g) => g.index), [1, 6]);
  deepEqual(doc.links.pairs.map((p) => [p.a, p.b, p.topo]), [[1, 6, "SYS"]]);
  deepEqual(doc.cudaVisibleDevices?.devices.map((d) => d.gpu), [6, 1]);
  const none = await probeTopology(
    fixtureEnv("pcie-8gpu-2numa", { env: { CUDA_VISIBLE_DEVICES: "" } }),
  );
  equal(none.status, "unavailable");
  ok(none.reasons.some((r) => r.includes("CUDA_VISIBLE_DEVICES is empty")));
});

Deno.test("probe: malformed tool output stops the probe with line, field and value", async () => {
  const topo = fixtureText("pcie-8gpu-2numa/topo-m.txt").replace("GPU3\tPXB", "GPU3\tPXQ");
  await rejects(
    () => probeTopology(fixtureEnv("pcie-8gpu-2numa", { commands: { topo } })),
    ToolOutputError,
    "nvidia-smi topo -m output, line 5",
    "row GPU3, column GPU0",
    '"PXQ"',
  );
  const fewer = fixtureText("workstation-2gpu/topo-m.txt");
  await rejects(
    () => probeTopology(fixtureEnv("pcie-8gpu-2numa", { commands: { topo: fewer } })),
    ToolOutputError,
    "lack GPU 2, 3, 4, 5, 6, 7",
  );
  const files = { ...sysfsFiles("dgx-h100") };
  files["/sys/bus/pci/devices/0000:18:00.0/numa_node"] = "zero\n";
  await rejects(
    () => probeTopology(fixtureEnv("dgx-h100", { fs: memoryFs(files) })),
    ToolOutputError,
    "/sys/bus/pci/devices/0000:18:00.0/numa_node",
    '"zero"',
  );
});

Deno.test("probe: the document survives JSON and the reader's validation unchanged", async () => {
  for (const name of ["dgx-h100", "a100-mig-vm", "dgx1-p100-legacy"]) {
    const doc = await probeTopology(fixtureEnv(name));
    deepEqual(parseTopology(JSON.stringify(doc), name), doc);
  }
});

Deno.test("probe: a recorded sysfs as a real directory tree reads the same through denoFs", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const [path, text] of Object.entries(sysfsFiles("pcie-8gpu-2numa"))) {
      await Deno.mkdir(join(root, path, ".."), { recursive: true });
      await Deno.writeTextFile(join(root, path), text);
    }
    const fromTree = await probeTopology(fixtureEnv("pcie-8gpu-2numa", { fs: denoFs(root) }));
    deepEqual(fromTree, await probeTopology(fixtureEnv("pcie-8gpu-2numa")));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("probe: this machine, for real", async () => {
  const doc = await probeTopology(systemProbeEnv({ timeoutMs: 5000 }));
  const nodes = ((await denoFs().list(NODE_DIR)) ?? []).filter((n) => /^node\d+$/.test(n));
  equal(doc.numa.nodes.length, nodes.length);
  equal(doc.status === "unavailable", doc.gpus.length === 0);
  if (doc.gpus.length === 0) ok(doc.reasons.length > 0, "an unavailable probe says why");
});

Deno.test("command runner: missing, failing and hanging commands", async () => {
  const run = denoCommandRunner(100);
  deepEqual(await run("pdroute-no-such-tool", []), { kind: "missing" });
  const failed = await run("sh", ["-c", "echo nope >&2; exit 3"]);
  deepEqual(failed, { kind: "failed", code: 3, stderr: "nope\n" });
  const started = performance.now();
  deepEqual(await run("sleep", ["5"]), { kind: "timeout", timeoutMs: 100 });
  ok(performance.now() - started < 2000, "the timeout is enforced");
  deepEqual(await run("echo", ["hi"]), { kind: "ok", stdout: "hi\n" });
});
