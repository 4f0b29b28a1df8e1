import { deepEqual, equal, match } from "node:assert/strict";
import { ToolOutputError } from "../../src/topology/errors.ts";
import { parseGpuList } from "../../src/topology/nvidia_list.ts";
import { parseQueryGpu } from "../../src/topology/nvidia_query.ts";
import { needsMigList, resolveVisibleDevices } from "../../src/topology/visible_devices.ts";
import { fixtureText, rejects } from "./_fixtures.ts";

const gpus = parseQueryGpu(fixtureText("pcie-8gpu-2numa/query-gpu.csv"));
const vm = parseQueryGpu(fixtureText("a100-mig-vm/query-gpu.csv"));
const listed = parseGpuList(fixtureText("a100-mig-vm/list.txt"));
const migParents = new Map(listed.flatMap((g) => g.migUuids.map((u) => [u, g.index] as const)));

const picked = (raw: string, known = gpus, parents: Map<string, number> | null = null) =>
  resolveVisibleDevices(raw, known, parents).devices.map((d) => [d.cudaIndex, d.gpu, d.mig]);

Deno.test("CUDA_VISIBLE_DEVICES: indices in the given order; empty hides everything", () => {
  deepEqual(picked("2, 0"), [[0, 2, false], [1, 0, false]]);
  deepEqual(picked(""), []);
});

Deno.test("CUDA_VISIBLE_DEVICES: full GPU UUIDs and unique prefixes, case-insensitive", () => {
  deepEqual(picked(`${gpus[5].uuid},${gpus[3].uuid.slice(0, 12).toUpperCase()}`), [
    [0, 5, false],
    [1, 3, false],
  ]);
});

Deno.test("CUDA_VISIBLE_DEVICES: the first bad entry hides itself and everything after it", () => {
  for (
    const [raw, bad] of [["0,9,1", "9"], ["1,-1,2", "-1"], ["3,3,4", "3"], ["0,GPU-,1", "GPU-"]]
  ) {
    const { devices, reasons } = resolveVisibleDevices(raw, gpus, null);
    equal(devices.length, 1, raw);
    equal(reasons.length, 1);
    match(reasons[0], new RegExp(`entry "${bad}" names no device`));
  }
  match(resolveVisibleDevices("3,3,4", gpus, null).reasons[0], /listed twice.*ignored: 3,4$/);
  match(resolveVisibleDevices("0,GPU-", gpus, null).reasons[0], /names several GPUs/);
});

Deno.test("CUDA_VISIBLE_DEVICES: MIG instances resolve to their parent GPU", () => {
  const [mig3g, mig2g] = listed[0].migUuids;
  equal(needsMigList(`${mig3g},1`), true);
  equal(needsMigList(`MIG-${vm[0].uuid}/1/0`), false, "the legacy form names its parent");
  equal(needsMigList("0,1"), false);
  deepEqual(picked(`${mig3g},${mig2g},1`, vm, migParents), [
    [0, 0, true],
    [1, 0, true],
    [2, 1, false],
  ]);
  deepEqual(picked(`MIG-${vm[1].uuid}/2/0`, vm), [[0, 1, true]]);
  match(
    resolveVisibleDevices(mig3g, vm, null).reasons[0],
    /MIG devices could not be listed/,
  );
});

Deno.test("nvidia-smi -L: GPUs with their MIG devices; junk is named", async () => {
  deepEqual(listed.map((g) => [g.index, g.migUuids.length]), [[0, 2], [1, 0]]);
  equal(listed[1].uuid, vm[1].uuid);
  await rejects(
    () => parseGpuList("GPU 0: A100 (UUID: GPU-1)\nFailed to initialize NVML\n"),
    ToolOutputError,
    "nvidia-smi -L output, line 2",
    '"Failed to initialize NVML"',
  );
});
