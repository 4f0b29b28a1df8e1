import { deepEqual, equal, ok } from "node:assert/strict";
import { estimateLink, nvlinkGbpsPerLink, PCIE_ESTIMATES } from "../../src/topology/links.ts";

Deno.test("link estimates: NVLink bandwidth scales with the bonded link count and generation", () => {
  deepEqual(estimateLink("NV18", "NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"), {
    class: "nvlink",
    gbps: 450,
    latencyMs: 0.01,
    nvlinks: 18,
  });
  equal(estimateLink("NV12", "NVIDIA A100 80GB PCIe", "NVIDIA A100 80GB PCIe").gbps, 300);
  equal(estimateLink("NV18", "NVIDIA B200", "NVIDIA B200").gbps, 900);
  equal(nvlinkGbpsPerLink("NVIDIA GB200"), 50);
  equal(nvlinkGbpsPerLink("Tesla P100-SXM2-16GB"), 20);
  equal(nvlinkGbpsPerLink("NVIDIA RTX A6000"), 25);
});

Deno.test("link estimates: PCIe paths get slower and farther hop by hop; SYS is crossNuma", () => {
  const order = ["PIX", "PXB", "PHB", "NODE", "SYS"];
  for (let i = 1; i < order.length; i++) {
    const [near, far] = [PCIE_ESTIMATES[order[i - 1]], PCIE_ESTIMATES[order[i]]];
    ok(far.gbps <= near.gbps && far.latencyMs >= near.latencyMs, `${order[i]} vs ${order[i - 1]}`);
  }
  equal(estimateLink("SYS", "a", "b").class, "crossNuma");
  equal(estimateLink("NODE", "a", "b").class, "pcie");
});
