/**
 * From a `nvidia-smi topo -m` cell to the policy's link class and a bandwidth/latency estimate
 * for moving KV between the two GPUs. These are planning numbers, not measurements; each row
 * says where it comes from (docs/TOPOLOGY.md has the table). Measure your machine (e.g.
 * p2pBandwidthLatencyTest from cuda-samples, nccl-tests) and override `links` in the policy
 * config when precision matters.
 */
import type { HostLinkClass } from "./schema.ts";

export interface LinkEstimate {
  readonly class: HostLinkClass;
  readonly gbps: number;
  readonly latencyMs: number;
  readonly nvlinks: number;
}

/**
 * PCIe paths, in GB/s per direction. Base: PCIe 4.0 x16 carries 31.5 GB/s raw; GPU peer copies
 * through one switch reach about 75% of it. Every extra hop (more bridges, the root complex,
 * the fabric between host bridges) costs bandwidth and adds latency; crossing the socket
 * interconnect (UPI/xGMI) is the slowest, and many platforms do not route P2P across it at
 * all, so copies are staged through host memory at roughly half the switch rate. Values are
 * conservative for PCIe 5.0 machines, which reach about twice these rates.
 */
export const PCIE_ESTIMATES: Readonly<Record<string, Omit<LinkEstimate, "nvlinks">>> = {
  PIX: { class: "pcie", gbps: 24, latencyMs: 0.015 },
  PXB: { class: "pcie", gbps: 22, latencyMs: 0.018 },
  PHB: { class: "pcie", gbps: 20, latencyMs: 0.02 },
  NODE: { class: "pcie", gbps: 18, latencyMs: 0.025 },
  SYS: { class: "crossNuma", gbps: 12, latencyMs: 0.03 },
};

/** One NVLink's rate per direction, in GB/s, by GPU generation (read from the name). */
export function nvlinkGbpsPerLink(gpuName: string): number {
  // NVLink 1 (P100): 20 GB/s per link per direction; NVLink 2, 3 and 4 (V100, A100, H100,
  // H200): 25; NVLink 5 (Blackwell: B100, B200, GB200, B300): 50.
  if (/\bP100\b/i.test(gpuName)) return 20;
  return /\b(GB|B)[123]00\b/i.test(gpuName) ? 50 : 25;
}

/** NVLink latency: one hop, no PCIe: the fastest path, below every PCIe estimate. */
export const NVLINK_LATENCY_MS = 0.01;

/** Estimates the path `cell` (not "X") between two GPUs named `nameA` and `nameB`. */
export function estimateLink(cell: string, nameA: string, nameB: string): LinkEstimate {
  const nv = /^NV(\d+)$/.exec(cell);
  if (nv) {
    const links = Number(nv[1]);
    const perLink = Math.min(nvlinkGbpsPerLink(nameA), nvlinkGbpsPerLink(nameB));
    return { class: "nvlink", gbps: links * perLink, latencyMs: NVLINK_LATENCY_MS, nvlinks: links };
  }
  const pcie = PCIE_ESTIMATES[cell];
  if (pcie === undefined) throw new Error(`estimateLink: not a GPU-to-GPU path: ${cell}`);
  return { ...pcie, nvlinks: 0 };
}
