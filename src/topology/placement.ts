/**
 * From topology documents to what the policy core consumes: per-endpoint `hostId`, `numaNode`,
 * `nvlinkDomain` and a NUMA-distance factor for `slabMsPerBlock` (`applyPlacement` folds them
 * into an `EndpointSpec`), plus a `links` override for `PolicyConfig`.
 *
 * The core knows four link classes and derives a pair's class from those fields alone (same
 * NVLink domain, else different host = network, else same NUMA node = pcie, else crossNuma),
 * so: nvlinkDomain = connected components of NV# links (MIG instances get none: MIG allows no
 * peer-to-peer); PIX, PXB, PHB and NODE all fall inside one NUMA node, hence pcie; SYS crosses
 * nodes, hence crossNuma. Each class gets the slowest estimate among the endpoints' GPU pairs
 * of that class (one number must serve every pair, so it must not promise more than the worst
 * delivers); classes no pair uses keep the config defaults; the result is clamped to the
 * monotone order `resolvePolicyConfig` enforces.
 */
import { DEFAULT_POLICY_CONFIG, type PolicyConfig } from "../core/config.ts";
import type { EndpointSpec } from "../core/endpoints.ts";
import { describeValue } from "../core/errors.ts";
import { TopologyInputError } from "./errors.ts";
import type { HostLinkClass, TopologyDocument, TopologyGpu } from "./schema.ts";

export type PolicyLinks = PolicyConfig["links"];
export type LinkCost = PolicyLinks["nvlink"];

/**
 * Where an endpoint's host KV slab (pinned CPU memory) lives: "local" (the GPU's own node, as
 * when the engine is bound there), "interleave" (spread over the nodes with CPUs), or an OS
 * node id (the engine is bound to that node).
 */
export type SlabNode = "local" | "interleave" | number;

export interface EndpointGpu {
  /** nvidia-smi index of the endpoint's GPU (`gpus[].index` in the document). */
  readonly gpu: number;
  readonly slab?: SlabNode;
}

export interface EndpointPlacement {
  readonly hostId: number;
  /** Dense per host (0..k-1 in OS node order); equality is all the core needs. */
  readonly numaNode: number;
  /** Dense over the fleet; -1 when the GPU has no NVLink peer among the host's GPUs. */
  readonly nvlinkDomain: number;
  /** Multiply `slabMsPerBlock` by this: NUMA distance GPU node -> slab node over local. */
  readonly slabScale: number;
  readonly gpu: number | null;
  readonly osNumaNode: number | null;
}

export interface Placement {
  readonly endpoints: readonly EndpointPlacement[];
  /** Pass as `links` in the policy config; monotone, so `resolvePolicyConfig` accepts it. */
  readonly links: PolicyLinks;
  /** Where the core's view is coarser than the document (or defaults were used). */
  readonly notes: readonly string[];
}

export interface PlacementOptions {
  /** Slab location for endpoints that name none (default "local": scale 1). */
  readonly slab?: SlabNode;
  /** The topology probe cannot see the network between hosts (default: the config default). */
  readonly network?: LinkCost;
}

export interface HostEndpoints {
  readonly topology: TopologyDocument;
  /** One entry per endpoint on this host: a GPU index, or a GPU and its slab location. */
  readonly endpoints: readonly (number | EndpointGpu)[];
}

const CLASS_ORDER = ["nvlink", "pcie", "crossNuma", "network"] as const;

/** No topology: one host, one NUMA node, no NVLink domains; every pair costs the same (pcie). */
export function defaultPlacement(count: number): Placement {
  if (!Number.isInteger(count) || count < 0) {
    throw new TopologyInputError(
      `Cannot place endpoints: 'count' must be a non-negative integer: current value is ${
        describeValue(count)
      }`,
    );
  }
  const endpoint: EndpointPlacement = {
    hostId: 0,
    numaNode: 0,
    nvlinkDomain: -1,
    slabScale: 1,
    gpu: null,
    osNumaNode: null,
  };
  return {
    endpoints: Array.from({ length: count }, () => endpoint),
    links: DEFAULT_POLICY_CONFIG.links,
    notes: ["no topology document: one host, one NUMA node, no NVLink (all pairs equal)"],
  };
}

/** The spec with the placement's topology fields set and its slab cost scaled. */
export function applyPlacement(spec: EndpointSpec, placement: EndpointPlacement): EndpointSpec {
  return {
    ...spec,
    hostId: placement.hostId,
    numaNode: placement.numaNode,
    nvlinkDomain: placement.nvlinkDomain,
    slabMsPerBlock: (spec.slabMsPerBlock ?? 0) * placement.slabScale,
  };
}

/** Endpoints on one host (hostId 0). */
export function placeEndpoints(
  topology: TopologyDocument,
  endpoints: readonly (number | EndpointGpu)[],
  options: PlacementOptions = {},
): Placement {
  return placeFleet([{ topology, endpoints }], options);
}

/** NVLink component of each GPU (keyed by its lowest GPU index); GPUs without peers absent. */
function nvlinkComponents(doc: TopologyDocument): Map<number, number> {
  const parent = new Map(doc.gpus.map((g) => [g.index, g.index]));
  const find = (x: number): number => {
    while (parent.get(x) !== x) x = parent.get(x)!;
    return x;
  };
  const mig = new Set(doc.gpus.filter((g) => g.mig).map((g) => g.index));
  for (const p of doc.links.pairs) {
    if (p.nvlinks === 0 || mig.has(p.a) || mig.has(p.b)) continue;
    const [ra, rb] = [find(p.a), find(p.b)];
    parent.set(Math.max(ra, rb), Math.min(ra, rb));
  }
  const roots = new Map(doc.gpus.map((g) => [g.index, find(g.index)]));
  const sizes = new Map<number, number>();
  for (const r of roots.values()) sizes.set(r, (sizes.get(r) ?? 0) + 1);
  return new Map([...roots].filter(([, r]) => sizes.get(r)! > 1));
}

function slabScale(
  doc: TopologyDocument,
  gpu: TopologyGpu,
  slab: SlabNode,
  where: string,
  notes: string[],
): number {
  if (slab === "local") return 1;
  const { nodes, distances } = doc.numa;
  const at = nodes.findIndex((n) => n.id === gpu.numaNode);
  if (at < 0) {
    notes.push(`${where}: GPU ${gpu.index}'s NUMA node or distances are unknown; slab not scaled`);
    return 1;
  }
  const row = distances[at];
  const local = row[at] > 0 ? row[at] : 10;
  if (slab === "interleave") {
    const withCpus = nodes.map((n, j) => ({ n, j })).filter(({ n }) => n.cpuCount > 0);
    const over = withCpus.length > 0 ? withCpus : nodes.map((n, j) => ({ n, j }));
    return over.reduce((sum, { j }) => sum + row[j], 0) / over.length / local;
  }
  const target = nodes.findIndex((n) => n.id === slab);
  if (target < 0) {
    throw new TopologyInputError(
      `Cannot place ${where}: 'slab' names NUMA node ${slab}, which ${doc.hostname} does not ` +
        `have (nodes ${nodes.map((n) => n.id).join(", ") || "unknown"})`,
    );
  }
  return row[target] / local;
}

const slower = (a: LinkCost | undefined, b: LinkCost): LinkCost =>
  a === undefined ? b : {
    gbps: Math.min(a.gbps, b.gbps),
    latencyMs: Math.max(a.latencyMs, b.latencyMs),
  };

/** Endpoints over several hosts: host i of `hosts` gets hostId i. */
export function placeFleet(
  hosts: readonly HostEndpoints[],
  options: PlacementOptions = {},
): Placement {
  const endpoints: EndpointPlacement[] = [];
  const notes: string[] = [];
  const observed: Partial<Record<HostLinkClass, LinkCost>> = {};
  let domainBase = 0;
  hosts.forEach(({ topology: doc, endpoints: requested }, hostId) => {
    if (doc.gpus.length === 0) {
      throw new TopologyInputError(
        `Cannot place endpoints on host ${hostId} (${doc.hostname}): its topology has no GPUs ` +
          `(status ${doc.status}: ${doc.reasons.join("; ") || "no reason given"})`,
      );
    }
    const components = nvlinkComponents(doc);
    const osNodes = [...new Set(doc.gpus.flatMap((g) => g.numaNode ?? []))].sort((a, b) => a - b);
    const domainKeys: number[] = [];
    const first = endpoints.length;
    requested.forEach((entry, k) => {
      const { gpu: index, slab = options.slab ?? "local" } = typeof entry === "number"
        ? { gpu: entry }
        : entry;
      const where = `endpoint ${first + k} (host ${hostId}, ${doc.hostname})`;
      const gpu = doc.gpus.find((g) => g.index === index);
      if (gpu === undefined) {
        throw new TopologyInputError(
          `Cannot place ${where}: GPU ${describeValue(index)} is not in its topology (GPUs ${
            doc.gpus.map((g) => g.index).join(", ")
          })`,
        );
      }
      const key = components.get(index);
      if (key !== undefined && !domainKeys.includes(key)) domainKeys.push(key);
      if (gpu.numaNode === null) {
        notes.push(`${where}: GPU ${index}'s NUMA node is unknown; using 0`);
      }
      endpoints.push({
        hostId,
        numaNode: gpu.numaNode === null ? 0 : osNodes.indexOf(gpu.numaNode),
        nvlinkDomain: key === undefined ? -1 : domainBase + domainKeys.indexOf(key),
        slabScale: slabScale(doc, gpu, slab, where, notes),
        gpu: index,
        osNumaNode: gpu.numaNode,
      });
    });
    domainBase += domainKeys.length;
    observeLinks(doc, endpoints.slice(first), hostId, observed, notes);
  });
  return { endpoints, links: monotoneLinks(observed, options.network, notes), notes };
}

/** Records the slowest estimate per core class among this host's endpoint GPU pairs. */
function observeLinks(
  doc: TopologyDocument,
  placed: readonly EndpointPlacement[],
  hostId: number,
  observed: Partial<Record<HostLinkClass, LinkCost>>,
  notes: string[],
): void {
  const byGpu = new Map(placed.map((p) => [p.gpu!, p]));
  if (!doc.links.available && byGpu.size > 1) {
    notes.push(`host ${hostId} (${doc.hostname}): GPU links unavailable; link costs are defaults`);
    return;
  }
  for (const link of doc.links.pairs) {
    const [pa, pb] = [byGpu.get(link.a), byGpu.get(link.b)];
    if (pa === undefined || pb === undefined) continue;
    const core: HostLinkClass = pa.nvlinkDomain >= 0 && pa.nvlinkDomain === pb.nvlinkDomain
      ? "nvlink"
      : pa.numaNode === pb.numaNode
      ? "pcie"
      : "crossNuma";
    if (core === link.class) {
      observed[core] = slower(observed[core], { gbps: link.gbps, latencyMs: link.latencyMs });
    } else {
      notes.push(
        `host ${hostId} GPUs ${link.a}-${link.b}: ${link.topo} (${link.class}) but the core ` +
          `treats them as ${core}`,
      );
    }
  }
}

function monotoneLinks(
  observed: Partial<Record<HostLinkClass, LinkCost>>,
  network: LinkCost | undefined,
  notes: string[],
): PolicyLinks {
  const defaults = DEFAULT_POLICY_CONFIG.links;
  const out: Partial<Record<(typeof CLASS_ORDER)[number], LinkCost>> = {};
  let previous: LinkCost | undefined;
  for (const c of CLASS_ORDER) {
    let cost = c === "network" ? network ?? defaults.network : observed[c] ?? defaults[c];
    if (c !== "network" && observed[c] === undefined) {
      notes.push(`no endpoint pair is linked by ${c}: links.${c} keeps the default`);
    }
    // Monotone: a dearer class is never faster than a cheaper one (resolvePolicyConfig checks).
    if (previous !== undefined) cost = slower(cost, previous);
    out[c] = cost;
    previous = cost;
  }
  return out as PolicyLinks;
}
