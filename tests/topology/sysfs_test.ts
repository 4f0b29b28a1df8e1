import { deepEqual, equal, ok } from "node:assert/strict";
import { ToolOutputError } from "../../src/topology/errors.ts";
import { denoFs } from "../../src/topology/host.ts";
import { cpulistCount, NODE_DIR, readHostNuma, readPciNumaNode } from "../../src/topology/sysfs.ts";
import { memoryFs, rejects, sysfsFiles } from "./_fixtures.ts";

Deno.test("sysfs: two NUMA nodes with distances and cpulists", async () => {
  const numa = await readHostNuma(memoryFs(sysfsFiles("nvlink-bridge-8gpu")));
  equal(numa.available, true);
  deepEqual(numa.nodes, [
    { id: 0, cpus: "0-63,128-191", cpuCount: 128 },
    { id: 1, cpus: "64-127,192-255", cpuCount: 128 },
  ]);
  deepEqual(numa.distances, [[10, 32], [32, 10]]);
});

Deno.test("sysfs: sparse node ids and a memory-only node keep their order", async () => {
  const numa = await readHostNuma(memoryFs({
    [`${NODE_DIR}/node2/distance`]: "20 10\n",
    [`${NODE_DIR}/node2/cpulist`]: "\n",
    [`${NODE_DIR}/node0/distance`]: "10 20\n",
    [`${NODE_DIR}/node0/cpulist`]: "0-7\n",
    [`${NODE_DIR}/possible`]: "0,2\n",
  }));
  deepEqual(numa.nodes.map((n) => [n.id, n.cpuCount]), [[0, 8], [2, 0]]);
  deepEqual(numa.distances, [[10, 20], [20, 10]]);
});

Deno.test("sysfs: no node directory means NUMA unavailable, with the reason", async () => {
  const numa = await readHostNuma(memoryFs({}));
  equal(numa.available, false);
  ok(numa.reasons[0].includes(NODE_DIR));
  const partial = await readHostNuma(memoryFs({ [`${NODE_DIR}/node0/cpulist`]: "0-3\n" }));
  equal(partial.available, false);
  ok(partial.reasons[0].includes("node0/distance is missing"));
});

Deno.test("sysfs: malformed distance rows and cpulists are named", async () => {
  const files = sysfsFiles("pcie-8gpu-2numa");
  await rejects(
    () => readHostNuma(memoryFs({ ...files, [`${NODE_DIR}/node1/distance`]: "21 ten\n" })),
    ToolOutputError,
    "node1/distance",
    '"ten"',
  );
  await rejects(
    () => readHostNuma(memoryFs({ ...files, [`${NODE_DIR}/node0/distance`]: "10 21 21\n" })),
    ToolOutputError,
    "has 3 distances but",
    "2 nodes",
  );
  await rejects(
    () => readHostNuma(memoryFs({ ...files, [`${NODE_DIR}/node0/cpulist`]: "0-31;64-95\n" })),
    ToolOutputError,
    "node0/cpulist",
    '"0-31;64-95"',
  );
});

Deno.test("cpulist counts", async () => {
  equal(cpulistCount("0-55,112-167", "x"), 112);
  equal(cpulistCount("3", "x"), 1);
  equal(cpulistCount("", "x"), 0);
  await rejects(() => cpulistCount("7-2", "x"), ToolOutputError, "runs backwards", '"7-2"');
});

Deno.test("sysfs: a PCI device's numa_node; -1 and absence say why", async () => {
  const fs = memoryFs({
    "/sys/bus/pci/devices/0000:18:00.0/numa_node": "1\n",
    "/sys/bus/pci/devices/0000:2a:00.0/numa_node": "-1\n",
    "/sys/bus/pci/devices/0000:3a:00.0/numa_node": "one\n",
  });
  deepEqual(await readPciNumaNode(fs, "0000:18:00.0"), { node: 1 });
  const none = await readPciNumaNode(fs, "0000:2a:00.0");
  ok(none.node === null && none.why.includes("is -1"));
  const absent = await readPciNumaNode(fs, "0000:99:00.0");
  ok(absent.node === null && absent.why.includes("does not exist"));
  await rejects(() => readPciNumaNode(fs, "0000:3a:00.0"), ToolOutputError, "numa_node", '"one"');
});

Deno.test("sysfs: this machine's real node directory", async () => {
  const names = await denoFs().list(NODE_DIR);
  const expected = (names ?? []).filter((n) => /^node\d+$/.test(n)).length;
  const numa = await readHostNuma(denoFs());
  equal(numa.nodes.length, expected);
  equal(numa.available, expected > 0);
  numa.distances.forEach((row, i) => equal(row.length, expected, `row ${i}`));
});
