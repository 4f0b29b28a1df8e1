/** The human summary `pdroute topology` prints: status and reasons, then NUMA, GPUs, links. */
import Table from "cli-table3";
import { placeEndpoints } from "./placement.ts";
import type { TopologyDocument } from "./schema.ts";

const PLAIN = { style: { head: [], border: [], compact: true } };

function numaTable(doc: TopologyDocument): string {
  const { nodes, distances } = doc.numa;
  const table = new Table({
    head: ["node", "CPUs", "cpulist", ...nodes.map((n) => `to node${n.id}`)],
    ...PLAIN,
  });
  nodes.forEach((n, i) => table.push([n.id, n.cpuCount, n.cpus || "-", ...distances[i]]));
  return table.toString();
}

function gpuTable(doc: TopologyDocument): string {
  const placement = placeEndpoints(doc, doc.gpus.map((g) => g.index));
  const table = new Table({
    head: ["GPU", "name", "PCI bus id", "memory", "NUMA", "CPU affinity", "NVLink domain"],
    ...PLAIN,
  });
  doc.gpus.forEach((g, i) => {
    const domain = placement.endpoints[i].nvlinkDomain;
    table.push([
      g.index + (g.mig ? " (MIG)" : ""),
      g.name,
      g.pciBusId,
      g.memoryMiB === null ? "n/a" : `${g.memoryMiB} MiB`,
      g.numaNode === null ? "unknown" : `${g.numaNode} (${g.numaSource})`,
      g.cpuAffinity ?? "n/a",
      domain < 0 ? "-" : domain,
    ]);
  });
  return table.toString();
}

function linkTables(doc: TopologyDocument): string {
  const cell = (a: number, b: number) =>
    a === b
      ? "X"
      : doc.links.pairs.find((p) => p.a === Math.min(a, b) && p.b === Math.max(a, b))?.topo ?? "?";
  const matrix = new Table({ head: ["", ...doc.gpus.map((g) => `GPU${g.index}`)], ...PLAIN });
  for (const a of doc.gpus) {
    matrix.push([`GPU${a.index}`, ...doc.gpus.map((b) => cell(a.index, b.index))]);
  }
  const classes = new Table({ head: ["path", "policy class", "GB/s", "latency ms"], ...PLAIN });
  const kinds = new Map(doc.links.pairs.map((p) => [p.topo, p]));
  for (const p of [...kinds.values()].sort((x, y) => y.gbps - x.gbps)) {
    classes.push([p.topo, p.class, p.gbps, p.latencyMs]);
  }
  return `${matrix.toString()}\nEstimated transfer classes (docs/TOPOLOGY.md):\n${classes}`;
}

function policyLinks(doc: TopologyDocument): string {
  const { links } = placeEndpoints(doc, doc.gpus.map((g) => g.index));
  const table = new Table({ head: ["class", "GB/s", "latency ms"], ...PLAIN });
  for (const [name, cost] of Object.entries(links)) table.push([name, cost.gbps, cost.latencyMs]);
  return table.toString();
}

export function renderTopologySummary(doc: TopologyDocument): string {
  const out: string[] = [
    `Topology of ${
      doc.hostname || "(unknown host)"
    }: ${doc.status.toUpperCase()} (schema ${doc.schemaVersion}, ${doc.generatedAt})`,
  ];
  for (const reason of doc.reasons) out.push(`  - ${reason}`);
  if (doc.cudaVisibleDevices !== null) {
    const seen = doc.cudaVisibleDevices.devices.map((d) => `${d.entry} -> GPU ${d.gpu}`);
    out.push(`CUDA_VISIBLE_DEVICES=${doc.cudaVisibleDevices.raw}: ${seen.join(", ") || "no GPU"}`);
  }
  const count = doc.numa.nodes.length;
  out.push(
    doc.numa.available
      ? `Host NUMA: ${count} node${count === 1 ? "" : "s"} (sysfs)\n${numaTable(doc)}`
      : "Host NUMA: unavailable",
  );
  if (doc.gpus.length === 0) {
    out.push(
      "GPUs: none. This document carries host NUMA data only; placing GPU endpoints needs a " +
        "document probed where nvidia-smi works (without one, the policy uses its default: " +
        "one host, one NUMA node, no NVLink).",
    );
    return out.join("\n");
  }
  out.push(`GPUs: ${doc.gpus.length}\n${gpuTable(doc)}`);
  out.push(
    doc.links.available
      ? `GPU links (nvidia-smi topo -m):\n${linkTables(doc)}`
      : "GPU links: unavailable",
  );
  out.push(`Policy links with every GPU as an endpoint (config 'links'):\n${policyLinks(doc)}`);
  return out.join("\n");
}
