import { deepEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { PolicyInputError } from "../../src/core/errors.ts";
import { TopologyInputError } from "../../src/topology/errors.ts";
import { loadTopology, parseTopology, writeTopology } from "../../src/topology/load.ts";
import { probeTopology } from "../../src/topology/probe.ts";
import { fixtureEnv, rejects } from "./_fixtures.ts";

const doc = await probeTopology(fixtureEnv("pcie-8gpu-2numa"));

/** The document with one change applied, as file text (untyped: the changes break types). */
// deno-lint-ignore no-explicit-any
type Loose = any;
function edited(change: (d: Loose) => void): string {
  const copy: Loose = structuredClone(doc);
  change(copy);
  return JSON.stringify(copy);
}

Deno.test("loadTopology: writes and reads back the same document; errors name the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "nested", "topology.json");
    await writeTopology(path, doc);
    deepEqual(await loadTopology(path), doc);
    const missing = join(dir, "nope.json");
    const error = await rejects(
      () => loadTopology(missing),
      TopologyInputError,
      `Cannot read topology file '${missing}': no such file`,
    );
    ok(error instanceof PolicyInputError, "the CLI maps it to a bad-input exit");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseTopology: each broken rule is named with its field and value", async () => {
  const cases: [string, string[]][] = [
    ["{ not json", ["topology file 't.json': not JSON"]],
    [edited((d) => d.schemaVersion = 2), ["'schemaVersion' 2 is not supported", "version 1"]],
    [edited((d) => d.gpus[3].numaNode = "one"), ["'gpus.3.numaNode'", 'current value is "one"']],
    [edited((d) => d.gpus[0].pciBusId = "00000000:1B:00.0"), ["'gpus.0.pciBusId'"]],
    [edited((d) => d.gpus[0].speed = 1), ["unknown field 'speed' in 'gpus.0'"]],
    [edited((d) => d.status = "done"), ["'status'", 'current value is "done"']],
    [edited((d) => d.links.pairs[0].b = 9), ["'links.pairs.0' must join two listed GPUs"]],
    [edited((d) => d.links.pairs[0].class = "nvlink"), ["'links.pairs.0.class'", "'PIX'"]],
    [edited((d) => d.links.pairs.pop()), ["all 28 pairs", "has 27"]],
    [edited((d) => d.numa.distances[1] = [21]), ["'numa.distances' must be a 2 x 2 matrix"]],
    [edited((d) => d.reasons = ["why?"]), ["'reasons' must be empty exactly when"]],
    [edited((d) => d.status = "unavailable"), ["'status' must be \"unavailable\" exactly when"]],
    [edited((d) => d.gpus[1].index = 0), ["'gpus.1.index' must be larger"]],
  ];
  for (const [text, fragments] of cases) {
    await rejects(
      () => parseTopology(text, "t.json"),
      TopologyInputError,
      "topology file 't.json'",
      ...fragments,
    );
  }
});
