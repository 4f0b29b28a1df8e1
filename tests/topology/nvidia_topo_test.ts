import { deepEqual, equal } from "node:assert/strict";
import { ToolOutputError } from "../../src/topology/errors.ts";
import { parseTopoMatrix } from "../../src/topology/nvidia_topo.ts";
import { fixtureText, rejects } from "./_fixtures.ts";

/** Every off-diagonal cell, as a sorted multiset summary "CELL:count". */
function census(cells: readonly (readonly string[])[]): string[] {
  const counts = new Map<string, number>();
  cells.forEach((row, i) =>
    row.forEach((c, j) => {
      if (i !== j) counts.set(c, (counts.get(c) ?? 0) + 1);
    })
  );
  return [...counts].map(([c, n]) => `${c}:${n}`).sort();
}

Deno.test("topo -m: DGX H100 (NVSwitch, all NV18) with 12 NIC rows, ANSI header, NIC legend", () => {
  const m = parseTopoMatrix(fixtureText("dgx-h100/topo-m.txt"));
  deepEqual(m.gpus, [0, 1, 2, 3, 4, 5, 6, 7]);
  deepEqual(census(m.cells), ["NV18:56"]);
  equal(m.nics.length, 12);
  deepEqual(m.nics[11], { label: "NIC11", name: "mlx5_11" });
  deepEqual(m.rows[0], { cpuAffinity: "0-55,112-167", numaAffinity: "0", gpuNumaId: null });
  deepEqual(m.rows[5], { cpuAffinity: "56-111,168-223", numaAffinity: "1", gpuNumaId: null });
});

Deno.test("topo -m: 8-GPU PCIe server over two NUMA nodes (PIX/PXB/NODE/SYS)", () => {
  const m = parseTopoMatrix(fixtureText("pcie-8gpu-2numa/topo-m.txt"));
  equal(m.cells[0][1], "PIX");
  equal(m.cells[0][2], "PXB");
  equal(m.cells[4][6], "NODE");
  equal(m.cells[3][4], "SYS");
  deepEqual(census(m.cells), ["NODE:8", "PIX:8", "PXB:8", "SYS:32"]);
  deepEqual(m.nics.map((n) => n.name), ["mlx5_0", "mlx5_1"]);
});

Deno.test("topo -m: workstation and VM layouts; N/A affinities become null", () => {
  const ws = parseTopoMatrix(fixtureText("workstation-2gpu/topo-m.txt"));
  deepEqual(ws.cells, [["X", "PHB"], ["PHB", "X"]]);
  deepEqual(ws.nics, []);
  const vm = parseTopoMatrix(fixtureText("a100-mig-vm/topo-m.txt"));
  equal(vm.cells[0][1], "NV12");
  deepEqual(vm.rows[1], { cpuAffinity: null, numaAffinity: null, gpuNumaId: null });
});

Deno.test("topo -m: legacy driver (mlx5_N labels, SOC, CPU Affinity only) pasted with spaces, CRLF", () => {
  const m = parseTopoMatrix(fixtureText("dgx1-p100-legacy/topo-m.txt"));
  deepEqual(m.gpus.length, 8);
  equal(m.cells[0][5], "SYS", "SOC is read as SYS");
  equal(m.cells[0][3], "NV2");
  deepEqual(census(m.cells), ["NV1:16", "NV2:16", "SYS:24"]);
  deepEqual(m.nics.map((n) => n.label), ["mlx5_0", "mlx5_1", "mlx5_2", "mlx5_3"]);
  deepEqual(m.nics[0], { label: "mlx5_0", name: "mlx5_0" });
  deepEqual(m.rows[4], { cpuAffinity: "20-39,60-79", numaAffinity: null, gpuNumaId: null });
});

Deno.test("topo -m: tabs expanded to spaces parse exactly like the tab original", () => {
  const tabs = fixtureText("pcie-8gpu-2numa/topo-m.txt");
  const expand = (line: string) => {
    let out = "";
    for (const ch of line) out += ch === "\t" ? " ".repeat(8 - (out.length % 8)) : ch;
    return out + "  ";
  };
  const spaced = tabs.split("\n").map(expand).join("\n");
  deepEqual(parseTopoMatrix(spaced), parseTopoMatrix(tabs));
});

Deno.test("topo -m: a GPU NUMA ID is read when the driver reports one", () => {
  const text = "\tGPU0\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\nGPU0\t X \t0-71\t0\t\t4\n";
  deepEqual(parseTopoMatrix(text).rows[0], {
    cpuAffinity: "0-71",
    numaAffinity: "0",
    gpuNumaId: 4,
  });
});

Deno.test("topo -m: malformed matrices name the line, cell and value", async () => {
  const good = fixtureText("workstation-2gpu/topo-m.txt");
  const cases: [string, string[]][] = [
    [good.replace("GPU1\tPHB", "GPU1\tPCI"), ["line 3", "row GPU1, column GPU0", '"PCI"']],
    [good.replace("GPU0\t X \tPHB", "GPU0\t X \tNV"), ["line 2", "row GPU0, column GPU1", '"NV"']],
    [good.replace("GPU1\tPHB\t X \t0-31\t0\t\tN/A", "GPU1\tPHB"), ["line 3", "has 1 link cells"]],
    [good.replace("GPU1\tPHB", "GPU1\tPIX"), [
      "line 2",
      "row GPU0, column GPU1",
      "must be symmetric",
    ]],
    [good.replace("GPU1\tPHB\t X \t0-31\t0\t\tN/A\n", ""), ["row GPU1", "is missing"]],
    [good.replace("GPU1\tPHB\t X \t0-31", "GPU2\tPHB\t X \t0-31"), ["line 3", '"GPU2"']],
    [good.replace("0-31\t0\t\tN/A\nGPU1", "0-31\t0\t\tN/A\textra\nGPU1"), [
      "line 2",
      "has 4 values after the link cells, expected 3",
    ]],
    [good.replace("0-31\t0\t\tN/A\nGPU1", "0-31\tzero\t\tN/A\nGPU1"), [
      "column 'NUMA Affinity'",
      '"zero"',
    ]],
    ["NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", [
      "the header",
      "has no GPU0 column",
    ]],
  ];
  for (const [text, fragments] of cases) {
    await rejects(() => parseTopoMatrix(text), ToolOutputError, "nvidia-smi topo -m", ...fragments);
  }
});
