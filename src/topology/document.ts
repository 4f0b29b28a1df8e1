/**
 * Validating a topology document read back from disk (or built by the probe): the zod schema
 * first, then the cross-field rules the schema cannot express. Errors name the field path and
 * the offending value.
 */
import type { z } from "zod";
import { describeValue } from "../core/errors.ts";
import { TopologyInputError } from "./errors.ts";
import { TOPOLOGY_SCHEMA_VERSION, type TopologyDocument, topologySchema } from "./schema.ts";

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[String(key)];
  }
  return value;
}

function formatIssue(what: string, error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    return `Invalid ${what}: unknown field '${issue.keys[0]}'${path ? ` in '${path}'` : ""}`;
  }
  return `Invalid ${what}: '${path}' ${issue.message.toLowerCase()}: current value is ${
    describeValue(valueAt(input, issue.path))
  }`;
}

const EXPECTED_CLASS = (topo: string) =>
  topo.startsWith("NV") ? "nvlink" : topo === "SYS" ? "crossNuma" : "pcie";

/** The first rule `doc` breaks, as "'field' problem: current value is V", or null. */
function crossCheck(doc: TopologyDocument): string | null {
  const { gpus, numa, links } = doc;
  const n = numa.nodes.length;
  for (let i = 1; i < n; i++) {
    if (numa.nodes[i].id <= numa.nodes[i - 1].id) {
      return `'numa.nodes.${i}.id' must be larger than the one before: current value is ${
        numa.nodes[i].id
      }`;
    }
  }
  if (numa.distances.length !== n || numa.distances.some((row) => row.length !== n)) {
    return `'numa.distances' must be a ${n} x ${n} matrix (one row and column per node): ` +
      `current value is ${describeValue(numa.distances)}`;
  }
  if (numa.available !== (n > 0)) {
    return `'numa.available' must be true exactly when 'numa.nodes' is not empty: current ` +
      `value is ${numa.available}`;
  }
  for (let i = 1; i < gpus.length; i++) {
    if (gpus[i].index <= gpus[i - 1].index) {
      return `'gpus.${i}.index' must be larger than the one before: current value is ${
        gpus[i].index
      }`;
    }
  }
  const indexes = new Set(gpus.map((g) => g.index));
  const known = `(GPUs ${[...indexes].join(", ") || "none"})`;
  for (const [i, g] of gpus.entries()) {
    if ((g.numaNode === null) !== (g.numaSource === null)) {
      return `'gpus.${i}.numaSource' must be null exactly when 'numaNode' is: current value ` +
        `is ${describeValue(g.numaSource)}`;
    }
  }
  const seen = new Set<string>();
  for (const [i, p] of links.pairs.entries()) {
    if (!indexes.has(p.a) || !indexes.has(p.b) || p.a >= p.b) {
      return `'links.pairs.${i}' must join two listed GPUs a < b ${known}: current value is ${
        describeValue({ a: p.a, b: p.b })
      }`;
    }
    if (seen.has(`${p.a}:${p.b}`)) {
      return `'links.pairs.${i}' repeats the pair ${p.a}-${p.b}`;
    }
    seen.add(`${p.a}:${p.b}`);
    if (p.topo === "X" || p.class !== EXPECTED_CLASS(p.topo)) {
      return `'links.pairs.${i}.class' does not match its topo '${p.topo}': current value is ${
        describeValue(p.class)
      }`;
    }
    const nvlinks = p.topo.startsWith("NV") ? Number(p.topo.slice(2)) : 0;
    if (p.nvlinks !== nvlinks) {
      return `'links.pairs.${i}.nvlinks' must be ${nvlinks} for '${p.topo}': current value is ${p.nvlinks}`;
    }
  }
  const pairCount = (gpus.length * (gpus.length - 1)) / 2;
  if (links.available && links.pairs.length !== pairCount) {
    return `'links.pairs' must hold all ${pairCount} pairs of the ${gpus.length} GPUs when ` +
      `'links.available' is true: current value has ${links.pairs.length}`;
  }
  for (const [i, d] of (doc.cudaVisibleDevices?.devices ?? []).entries()) {
    if (!indexes.has(d.gpu)) {
      return `'cudaVisibleDevices.devices.${i}.gpu' names a GPU not in 'gpus' ${known}: ` +
        `current value is ${d.gpu}`;
    }
  }
  if ((doc.status === "unavailable") !== (gpus.length === 0)) {
    return `'status' must be "unavailable" exactly when 'gpus' is empty: current value is ${
      describeValue(doc.status)
    }`;
  }
  if ((doc.status === "complete") !== (doc.reasons.length === 0)) {
    return `'reasons' must be empty exactly when 'status' is "complete": current value is ${
      describeValue(doc.reasons)
    }`;
  }
  return null;
}

/** Checks `value` is a topology document; throws `TopologyInputError` naming field and value. */
export function validateTopology(value: unknown, what = "topology document"): TopologyDocument {
  const version = valueAt(value, ["schemaVersion"]);
  if (typeof version === "number" && version !== TOPOLOGY_SCHEMA_VERSION) {
    throw new TopologyInputError(
      `Invalid ${what}: 'schemaVersion' ${version} is not supported (this pdroute reads ` +
        `version ${TOPOLOGY_SCHEMA_VERSION}); re-run 'pdroute topology' on that host`,
    );
  }
  const parsed = topologySchema.safeParse(value);
  if (!parsed.success) throw new TopologyInputError(formatIssue(what, parsed.error, value));
  const problem = crossCheck(parsed.data);
  if (problem !== null) throw new TopologyInputError(`Invalid ${what}: ${problem}`);
  return parsed.data;
}
