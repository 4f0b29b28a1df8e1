import { deepEqual, equal } from "node:assert/strict";
import { ToolOutputError } from "../../src/topology/errors.ts";
import { normalizePciBusId, parseQueryGpu } from "../../src/topology/nvidia_query.ts";
import { fixtureText, rejects } from "./_fixtures.ts";

const UUID = "GPU-344e1aa0-d0ea-ba06-729f-5261a1d94e06";

Deno.test("query-gpu: an 8-GPU DGX H100 listing", () => {
  const gpus = parseQueryGpu(fixtureText("dgx-h100/query-gpu.csv"));
  equal(gpus.length, 8);
  deepEqual(gpus[0], {
    index: 0,
    name: "NVIDIA H100 80GB HBM3",
    pciBusId: "0000:18:00.0",
    uuid: UUID,
    memoryMiB: 81559,
  });
  equal(gpus[7].pciBusId, "0000:db:00.0");
});

Deno.test("query-gpu: legacy 4-digit domains and CRLF line ends", () => {
  const gpus = parseQueryGpu(fixtureText("dgx1-p100-legacy/query-gpu.csv"));
  deepEqual(gpus.map((g) => g.pciBusId).slice(0, 3), [
    "0000:06:00.0",
    "0000:07:00.0",
    "0000:0a:00.0",
  ]);
  equal(gpus[0].uuid.endsWith("\r"), false);
});

Deno.test("bus ids: nvidia-smi and sysfs spellings meet; VMD domains keep 5 digits", () => {
  equal(normalizePciBusId("00000000:3B:00.0"), "0000:3b:00.0");
  equal(normalizePciBusId("0000:3b:00.0"), "0000:3b:00.0");
  equal(normalizePciBusId("00010000:01:00.0"), "10000:01:00.0");
  equal(normalizePciBusId("3B:00.0"), null);
});

Deno.test("query-gpu: n/a memory, a comma in the name, headers and blank lines", () => {
  const text = `index, name, pci.bus_id, uuid, memory.total\n\n` +
    `1, NVIDIA GB10, rev A, 0000000F:01:00.0, ${UUID}, [N/A]  \n` +
    `0, NVIDIA L4, 00000000:01:00.0, ${UUID}, 23034 MiB\n`;
  const gpus = parseQueryGpu(text);
  deepEqual(gpus.map((g) => [g.index, g.name, g.memoryMiB]), [
    [0, "NVIDIA L4", 23034],
    [1, "NVIDIA GB10, rev A", null],
  ]);
  equal(gpus[1].pciBusId, "000f:01:00.0");
  deepEqual(parseQueryGpu("No devices were found\n"), []);
});

Deno.test("query-gpu: malformed lines name the line, field and value", async () => {
  const good = `0, NVIDIA L4, 00000000:01:00.0, ${UUID}, 23034 MiB\n`;
  const cases: [string, string[]][] = [
    [good + `1, NVIDIA L4, 0000:ZZ:00.0, ${UUID}, 23034 MiB\n`, [
      "line 2",
      "field 'pci.bus_id'",
      '"0000:ZZ:00.0"',
    ]],
    [good + "1, NVIDIA L4, 00000000:02:00.0\n", ["line 2", "has 3 comma-separated fields"]],
    [`x, NVIDIA L4, 00000000:01:00.0, ${UUID}, 1 MiB\n`, ["line 1", "field 'index'", '"x"']],
    [good + good, ["line 2", "repeats an earlier GPU"]],
    [`0, NVIDIA L4, 00000000:01:00.0, 1234, 1 MiB\n`, ["field 'uuid'", '"1234"']],
    [`0, NVIDIA L4, 00000000:01:00.0, ${UUID}, 80 GB\n`, ["field 'memory.total'", '"80 GB"']],
  ];
  for (const [text, fragments] of cases) {
    await rejects(
      () => parseQueryGpu(text),
      ToolOutputError,
      "nvidia-smi --query-gpu",
      ...fragments,
    );
  }
});
