/**
 * The topology document (`pdroute topology` writes it, `loadTopology` reads it back), as a
 * zod schema. Bump `TOPOLOGY_SCHEMA_VERSION` on any incompatible change; docs/TOPOLOGY.md
 * describes every field.
 */
import { z } from "zod";

export const TOPOLOGY_SCHEMA_VERSION = 1;

/** Canonical PCI address as sysfs spells it: lower case, domain at least 4 hex digits. */
export const PCI_BUS_ID = /^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
/** A `nvidia-smi topo -m` GPU-to-GPU cell, normalised (legacy SOC is stored as SYS). */
export const TOPO_CELL = /^(X|NV[1-9]\d*|PIX|PXB|PHB|NODE|SYS)$/;
/** Linux cpulist syntax ("0-55,112-167"); the empty string is a node without CPUs. */
export const CPULIST = /^(\d+(-\d+)?(,\d+(-\d+)?)*)?$/;

/** The policy core's link classes that can occur inside one host (network is between hosts). */
export const linkClassSchema = z.enum(["nvlink", "pcie", "crossNuma"]);
export type HostLinkClass = z.infer<typeof linkClassSchema>;

const index = z.number().int().min(0);
const gbps = z.number().gt(0);
const ms = z.number().min(0);

export const numaNodeSchema = z.object({
  /** OS node id (the N of /sys/devices/system/node/nodeN). */
  id: index,
  /** The node's cpulist as the kernel prints it; "" for a node without CPUs (memory only). */
  cpus: z.string().regex(CPULIST),
  cpuCount: index,
}).strict();

export const gpuSchema = z.object({
  /** nvidia-smi index (PCI bus order); GPU<index> in `nvidia-smi topo -m`. */
  index,
  name: z.string().min(1),
  pciBusId: z.string().regex(PCI_BUS_ID),
  uuid: z.string().min(1),
  memoryMiB: index.nullable(),
  /** OS NUMA node of the GPU's PCIe attachment; null when neither source knows it. */
  numaNode: index.nullable(),
  numaSource: z.enum(["sysfs", "nvidia-smi"]).nullable(),
  /** `nvidia-smi topo -m` columns, verbatim; null for N/A or when the matrix is missing. */
  cpuAffinity: z.string().regex(CPULIST).nullable(),
  numaAffinity: z.string().nullable(),
  /** True when CUDA_VISIBLE_DEVICES selects MIG instances of this GPU (no P2P: no NVLink). */
  mig: z.boolean(),
}).strict();

export const linkSchema = z.object({
  /** GPU indexes, a < b. */
  a: index,
  b: index,
  /** The `nvidia-smi topo -m` cell: NV#, PIX, PXB, PHB, NODE or SYS. */
  topo: z.string().regex(TOPO_CELL),
  /** Bonded NVLinks (the # of NV#); 0 for PCIe paths. */
  nvlinks: index,
  /** The policy link class this path estimates to, and its estimated cost (links.ts). */
  class: linkClassSchema,
  gbps,
  latencyMs: ms,
}).strict();

export const visibleDeviceSchema = z.object({
  /** Device ordinal inside a process started with this CUDA_VISIBLE_DEVICES. */
  cudaIndex: index,
  /** The CUDA_VISIBLE_DEVICES entry, verbatim. */
  entry: z.string(),
  /** The physical GPU it resolves to (MIG instances resolve to their parent GPU). */
  gpu: index,
  mig: z.boolean(),
}).strict();

export const topologySchema = z.object({
  schemaVersion: z.literal(TOPOLOGY_SCHEMA_VERSION),
  generatedAt: z.string().min(1),
  hostname: z.string(),
  status: z.enum(["complete", "partial", "unavailable"]),
  /** Everything missing or uncertain, one plain sentence each; empty when complete. */
  reasons: z.array(z.string()),
  numa: z.object({
    available: z.boolean(),
    nodes: z.array(numaNodeSchema),
    /** ACPI SLIT distances (10 = local): distances[i][j] from nodes[i] to nodes[j]. */
    distances: z.array(z.array(z.number().int().min(0))),
  }).strict(),
  /** null when CUDA_VISIBLE_DEVICES is unset (every GPU visible, in index order). */
  cudaVisibleDevices: z.object({
    raw: z.string(),
    devices: z.array(visibleDeviceSchema),
  }).strict().nullable(),
  /** Visible GPUs, by index. Empty when status is unavailable. */
  gpus: z.array(gpuSchema),
  links: z.object({
    available: z.boolean(),
    /** One entry per unordered pair of visible GPUs. */
    pairs: z.array(linkSchema),
    /** NICs named by `nvidia-smi topo -m` (label NIC0.. and its device name when listed). */
    nics: z.array(z.object({ label: z.string(), name: z.string().nullable() }).strict()),
  }).strict(),
}).strict();

export type TopologyDocument = z.infer<typeof topologySchema>;
export type TopologyGpu = z.infer<typeof gpuSchema>;
export type TopologyLink = z.infer<typeof linkSchema>;
export type NumaNode = z.infer<typeof numaNodeSchema>;
export type VisibleDevice = z.infer<typeof visibleDeviceSchema>;
export type TopologyStatus = TopologyDocument["status"];
