import { deepEqual, equal, match, ok } from "node:assert/strict";
import { CommanderError } from "@commander-js/extra-typings";
import { join } from "node:path";
import { topologyCommand } from "../../src/cli/commands/topology.ts";
import { CliError } from "../../src/cli/errors.ts";
import { main } from "../../src/cli/main.ts";
import { loadTopology, writeTopology } from "../../src/topology/load.ts";
import { probeTopology } from "../../src/topology/probe.ts";
import { captured } from "../_capture.ts";
import { fixtureEnv, fixtureText, rejects } from "./_fixtures.ts";

const dir = await Deno.makeTempDir();
addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

Deno.test("pdroute topology: probes this machine, writes the document, prints a summary", async () => {
  const path = join(dir, "probe", "topology.json");
  const { result, out } = await captured(() => main(["topology", "--out", path]));
  equal(result, 0);
  const doc = await loadTopology(path);
  match(out, new RegExp(`Topology of .*: ${doc.status.toUpperCase()}`));
  match(out, /Host NUMA: /);
  for (const reason of doc.reasons) ok(out.includes(reason), `summary shows: ${reason}`);
  if (doc.status === "unavailable") match(out, /GPUs: none\. This document carries host NUMA/);
  match(out, new RegExp(`Wrote ${path}`));
});

Deno.test("pdroute topology --json prints exactly the document it writes", async () => {
  const path = join(dir, "json", "topology.json");
  const { result, out, err } = await captured(() => main(["topology", "--json", "--out", path]));
  equal(result, 0);
  deepEqual(JSON.parse(out), await loadTopology(path));
  match(err, /Wrote /, "the note goes to stderr, keeping stdout pure JSON");
});

Deno.test("pdroute topology --from summarises a saved document; a bad file is exit 2", async () => {
  const path = join(dir, "saved.json");
  await writeTopology(path, await probeTopology(fixtureEnv("nvlink-bridge-8gpu")));
  const { result, out } = await captured(() => main(["topology", "--from", path]));
  equal(result, 0);
  match(out, /GPU links \(nvidia-smi topo -m\)/);
  match(out, /NV12 +│ nvlink/);
  const bad = await captured(() => main(["topology", "--from", join(dir, "missing.json")]));
  equal(bad.result, 2);
  match(bad.err, /pdroute: Cannot read topology file '.*missing\.json': no such file/);
  let said = "";
  const command = topologyCommand().exitOverride().configureOutput({ writeErr: (s) => said += s });
  await rejects(
    () => command.parseAsync(["--timeout-ms", "0"], { from: "user" }),
    CommanderError,
    "argument '0' is invalid",
  );
  match(said, /expected whole milliseconds from 1 to 600000, got 0/);
});

Deno.test("pdroute topology: malformed nvidia-smi output fails with exit 1 and names the cell", async () => {
  const topo = fixtureText("workstation-2gpu/topo-m.txt").replace("GPU1\tPHB", "GPU1\t??");
  const command = topologyCommand(() => fixtureEnv("workstation-2gpu", { commands: { topo } }))
    .exitOverride();
  const error = await rejects(
    () => command.parseAsync(["--out", join(dir, "bad.json")], { from: "user" }),
    CliError,
    "topology probe failed: Cannot parse nvidia-smi topo -m output, line 3",
    "row GPU1, column GPU0",
    '"??"',
  );
  equal((error as CliError).exitCode, 1);
});
