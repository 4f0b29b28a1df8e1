/**
 * The probe: host NUMA from sysfs, GPUs from `nvidia-smi --query-gpu`, CUDA_VISIBLE_DEVICES,
 * GPU links and affinities from `nvidia-smi topo -m`, put together into one validated
 * document. A missing or failing tool is recorded in `reasons` (status partial/unavailable);
 * output that cannot be parsed throws `ToolOutputError`.
 */
import { validateTopology } from "./document.ts";
import type { CommandResult, ProbeEnv } from "./env.ts";
import { ToolOutputError } from "./errors.ts";
import { estimateLink } from "./links.ts";
import { parseGpuList } from "./nvidia_list.ts";
import { parseQueryGpu, type QueriedGpu, QUERY_GPU_ARGS } from "./nvidia_query.ts";
import { parseTopoMatrix, type TopoMatrix } from "./nvidia_topo.ts";
import {
  TOPOLOGY_SCHEMA_VERSION,
  type TopologyDocument,
  type TopologyGpu,
  type TopologyLink,
} from "./schema.ts";
import { readHostNuma, readPciNumaNode } from "./sysfs.ts";
import { needsMigList, resolveVisibleDevices } from "./visible_devices.ts";

function failure(what: string, result: Exclude<CommandResult, { kind: "ok" }>): string {
  switch (result.kind) {
    case "missing":
      return "nvidia-smi is not on PATH (no NVIDIA driver tools on this machine)";
    case "failed": {
      const message = result.stderr.trim().split("\n")[0]?.trim() || "no message";
      return `${what} exited with status ${result.code}: ${message}`;
    }
    case "timeout":
      return `${what} did not finish within ${result.timeoutMs} ms (hung driver?)`;
    case "error":
      return `${what} could not be started: ${result.message}`;
  }
}

interface Visible {
  gpus: QueriedGpu[];
  mig: Set<number>;
  cudaVisibleDevices: TopologyDocument["cudaVisibleDevices"];
}

async function applyVisibleDevices(
  env: ProbeEnv,
  all: QueriedGpu[],
  reasons: string[],
): Promise<Visible> {
  const raw = env.env("CUDA_VISIBLE_DEVICES");
  if (raw === undefined || all.length === 0) {
    return { gpus: all, mig: new Set(), cudaVisibleDevices: null };
  }
  let migParents: Map<string, number> | null = null;
  if (needsMigList(raw)) {
    const listed = await env.run("nvidia-smi", ["-L"]);
    if (listed.kind === "ok") {
      migParents = new Map(
        parseGpuList(listed.stdout).flatMap((g) => g.migUuids.map((u) => [u, g.index] as const)),
      );
    } else {
      reasons.push(`${failure("nvidia-smi -L", listed)}: MIG devices cannot be resolved`);
    }
  }
  const visibility = resolveVisibleDevices(raw, all, migParents);
  reasons.push(...visibility.reasons);
  if (raw.trim() === "") reasons.push("CUDA_VISIBLE_DEVICES is empty: no GPU is visible");
  const names = new Set(all.map((g) => g.name));
  const order = env.env("CUDA_DEVICE_ORDER");
  if (names.size > 1 && order !== "PCI_BUS_ID" && /(^|,)\s*\d/.test(raw)) {
    reasons.push(
      `CUDA_DEVICE_ORDER is ${order ?? "unset"} and the GPUs differ: CUDA may number them ` +
        `fastest first, but numeric CUDA_VISIBLE_DEVICES entries were read as nvidia-smi indexes`,
    );
  }
  const ids = new Set(visibility.devices.map((d) => d.gpu));
  return {
    gpus: all.filter((g) => ids.has(g.index)),
    mig: new Set(visibility.devices.filter((d) => d.mig).map((d) => d.gpu)),
    cudaVisibleDevices: { raw, devices: visibility.devices },
  };
}

async function readMatrix(
  env: ProbeEnv,
  all: QueriedGpu[],
  reasons: string[],
): Promise<TopoMatrix | null> {
  const result = await env.run("nvidia-smi", ["topo", "-m"]);
  if (result.kind !== "ok") {
    reasons.push(`${failure("nvidia-smi topo -m", result)}: GPU links and affinities unavailable`);
    return null;
  }
  const matrix = parseTopoMatrix(result.stdout);
  const missing = all.filter((g) => !matrix.gpus.includes(g.index));
  if (missing.length > 0) {
    throw new ToolOutputError(
      "nvidia-smi topo -m output",
      null,
      "the GPU columns",
      matrix.gpus.map((i) => `GPU${i}`).join(" "),
      `lack GPU ${missing.map((g) => g.index).join(", ")} listed by nvidia-smi --query-gpu`,
    );
  }
  return matrix;
}

async function describeGpu(
  env: ProbeEnv,
  gpu: QueriedGpu,
  matrix: TopoMatrix | null,
  mig: boolean,
  reasons: string[],
): Promise<TopologyGpu> {
  const row = matrix ? matrix.rows[matrix.gpus.indexOf(gpu.index)] : null;
  const affinity = row?.numaAffinity ?? null;
  const fromTopo = affinity !== null && /^\d+$/.test(affinity) ? Number(affinity) : null;
  const sysfs = await readPciNumaNode(env.fs, gpu.pciBusId);
  let numaNode: number | null = null;
  let numaSource: TopologyGpu["numaSource"] = null;
  if (sysfs.node !== null) {
    [numaNode, numaSource] = [sysfs.node, "sysfs"];
    if (fromTopo !== null && fromTopo !== sysfs.node) {
      reasons.push(
        `GPU ${gpu.index}: sysfs puts it on NUMA node ${sysfs.node} but nvidia-smi says ` +
          `${fromTopo}; using sysfs`,
      );
    }
  } else if (fromTopo !== null) {
    [numaNode, numaSource] = [fromTopo, "nvidia-smi"];
  } else {
    reasons.push(
      `GPU ${gpu.index}: NUMA node unknown (${sysfs.why}; nvidia-smi NUMA Affinity is ${
        affinity ?? (row ? "N/A" : "unavailable")
      })`,
    );
  }
  return {
    index: gpu.index,
    name: gpu.name,
    pciBusId: gpu.pciBusId,
    uuid: gpu.uuid,
    memoryMiB: gpu.memoryMiB,
    numaNode,
    numaSource,
    cpuAffinity: row?.cpuAffinity ?? null,
    numaAffinity: affinity,
    mig,
  };
}

function pairsOf(gpus: readonly TopologyGpu[], matrix: TopoMatrix): TopologyLink[] {
  const pairs: TopologyLink[] = [];
  for (let i = 0; i < gpus.length; i++) {
    for (let j = i + 1; j < gpus.length; j++) {
      const [a, b] = [gpus[i], gpus[j]];
      const topo = matrix.cells[matrix.gpus.indexOf(a.index)][matrix.gpus.indexOf(b.index)];
      const estimate = estimateLink(topo, a.name, b.name);
      pairs.push({ a: a.index, b: b.index, topo, ...estimate });
    }
  }
  return pairs;
}

/** Probes the machine `env` describes. Throws `ToolOutputError` on unparseable tool output. */
export async function probeTopology(env: ProbeEnv): Promise<TopologyDocument> {
  const reasons: string[] = [];
  const numa = await readHostNuma(env.fs);
  reasons.push(...numa.reasons);

  let all: QueriedGpu[] = [];
  const queried = await env.run("nvidia-smi", QUERY_GPU_ARGS);
  if (queried.kind === "ok") {
    all = parseQueryGpu(queried.stdout);
    if (all.length === 0) reasons.push("nvidia-smi lists no GPUs");
  } else {
    reasons.push(`${failure("nvidia-smi --query-gpu", queried)}: GPUs unavailable`);
  }
  const visible = await applyVisibleDevices(env, all, reasons);
  const matrix = visible.gpus.length > 0 ? await readMatrix(env, all, reasons) : null;
  const gpus: TopologyGpu[] = [];
  for (const gpu of visible.gpus) {
    gpus.push(await describeGpu(env, gpu, matrix, visible.mig.has(gpu.index), reasons));
  }
  for (const g of gpus) {
    if (g.numaNode !== null && numa.available && !numa.nodes.some((n) => n.id === g.numaNode)) {
      reasons.push(`GPU ${g.index}: NUMA node ${g.numaNode} is not among the host's nodes`);
    }
  }
  const doc: TopologyDocument = {
    schemaVersion: TOPOLOGY_SCHEMA_VERSION,
    generatedAt: env.now.toISOString(),
    hostname: env.hostname,
    status: gpus.length === 0 ? "unavailable" : reasons.length > 0 ? "partial" : "complete",
    reasons,
    numa: { available: numa.available, nodes: numa.nodes, distances: numa.distances },
    cudaVisibleDevices: visible.cudaVisibleDevices,
    gpus,
    links: {
      available: matrix !== null,
      pairs: matrix ? pairsOf(gpus, matrix) : [],
      nics: matrix ? [...matrix.nics] : [],
    },
  };
  // The probe's own output must pass the reader's checks; failing here is a bug, not bad input.
  return validateTopology(doc, "probed topology (a pdroute bug)");
}
