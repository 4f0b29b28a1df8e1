/**
 * Host NUMA layout from Linux sysfs: /sys/devices/system/node/node<N>/{distance,cpulist}, and a
 * PCI device's node from /sys/bus/pci/devices/<address>/numa_node.
 */
import type { TopologyFs } from "./env.ts";
import { ToolOutputError } from "./errors.ts";
import { CPULIST, type NumaNode } from "./schema.ts";

export const NODE_DIR = "/sys/devices/system/node";

export interface HostNuma {
  readonly available: boolean;
  readonly nodes: NumaNode[];
  readonly distances: number[][];
  readonly reasons: string[];
}

/** Number of CPUs in a cpulist ("0-3,8" has 5); throws naming `source` when malformed. */
export function cpulistCount(text: string, source: string): number {
  if (!CPULIST.test(text)) {
    throw new ToolOutputError(source, 1, "the cpulist", text, "is malformed");
  }
  if (text === "") return 0;
  let count = 0;
  for (const part of text.split(",")) {
    const [lo, hi = lo] = part.split("-").map(Number);
    if (hi < lo) throw new ToolOutputError(source, 1, "the range", part, "runs backwards");
    count += hi - lo + 1;
  }
  return count;
}

export async function readHostNuma(fs: TopologyFs): Promise<HostNuma> {
  const entries = await fs.list(NODE_DIR);
  const ids = (entries ?? []).map((e) => /^node(\d+)$/.exec(e)).filter((m) => m !== null)
    .map((m) => Number(m[1])).sort((a, b) => a - b);
  if (ids.length === 0) {
    return {
      available: false,
      nodes: [],
      distances: [],
      reasons: [
        `${NODE_DIR} lists no NUMA nodes (not Linux, or a kernel without NUMA): placement ` +
        `assumes one node`,
      ],
    };
  }
  const nodes: NumaNode[] = [];
  const distances: number[][] = [];
  for (const id of ids) {
    const distancePath = `${NODE_DIR}/node${id}/distance`;
    const cpulistPath = `${NODE_DIR}/node${id}/cpulist`;
    const distanceText = await fs.readText(distancePath);
    const cpus = (await fs.readText(cpulistPath))?.trim() ?? null;
    if (distanceText === null || cpus === null) {
      const missing = distanceText === null ? distancePath : cpulistPath;
      return {
        available: false,
        nodes: [],
        distances: [],
        reasons: [`${missing} is missing: host NUMA distances unavailable`],
      };
    }
    const row = distanceText.trim().split(/\s+/);
    row.forEach((value) => {
      if (!/^\d+$/.test(value)) {
        throw new ToolOutputError(distancePath, 1, "a distance", value, "is not an integer");
      }
    });
    if (row.length !== ids.length) {
      throw new ToolOutputError(
        distancePath,
        1,
        "the row",
        distanceText.trim(),
        `has ${row.length} distances but ${NODE_DIR} has ${ids.length} nodes`,
      );
    }
    distances.push(row.map(Number));
    nodes.push({ id, cpus, cpuCount: cpulistCount(cpus, cpulistPath) });
  }
  return { available: true, nodes, distances, reasons: [] };
}

/**
 * The NUMA node sysfs gives a PCI device: a number, or null with why (-1 means the firmware
 * describes no locality, common in VMs and single-node machines).
 */
export async function readPciNumaNode(
  fs: TopologyFs,
  busId: string,
): Promise<{ node: number } | { node: null; why: string }> {
  const path = `/sys/bus/pci/devices/${busId}/numa_node`;
  const text = await fs.readText(path);
  if (text === null) return { node: null, why: `${path} does not exist` };
  const value = text.trim();
  if (!/^-?\d+$/.test(value)) {
    throw new ToolOutputError(path, 1, "numa_node", value, "is not an integer");
  }
  const node = Number(value);
  return node < 0 ? { node: null, why: `${path} is ${value} (no locality from firmware)` } : {
    node,
  };
}
