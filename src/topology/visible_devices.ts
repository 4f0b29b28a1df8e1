/**
 * Which physical GPUs a process started with this CUDA_VISIBLE_DEVICES sees, following the
 * CUDA documentation: unset means all; empty means none; entries are comma separated and are
 * indices (nvidia-smi order), GPU UUIDs or unique prefixes of them, or MIG instances
 * (MIG-<uuid> from `nvidia-smi -L`, or the legacy MIG-GPU-<uuid>/<gi>/<ci>); the first entry
 * that names no device hides itself and every entry after it. MIG instances resolve to their
 * parent GPU: PCIe placement and NUMA node are the parent's.
 */
import type { VisibleDevice } from "./schema.ts";

export interface KnownGpu {
  readonly index: number;
  readonly uuid: string;
}

export interface Visibility {
  readonly devices: VisibleDevice[];
  readonly reasons: string[];
}

/** True when resolving `raw` needs `nvidia-smi -L` (a MIG-<uuid> entry names no parent). */
export function needsMigList(raw: string | undefined): boolean {
  return raw !== undefined &&
    raw.split(",").some((e) => /^MIG-/i.test(e.trim()) && !/^MIG-GPU-/i.test(e.trim()));
}

function byUuidPrefix(gpus: readonly KnownGpu[], prefix: string): KnownGpu[] {
  const p = prefix.toLowerCase();
  return gpus.filter((g) => g.uuid.toLowerCase().startsWith(p));
}

/** Returns the GPU an entry names, or why it names none. */
function resolveEntry(
  entry: string,
  gpus: readonly KnownGpu[],
  migParents: ReadonlyMap<string, number> | null,
): { gpu: number; mig: boolean } | string {
  if (/^\d+$/.test(entry)) {
    const gpu = gpus.find((g) => g.index === Number(entry));
    return gpu ? { gpu: gpu.index, mig: false } : `index ${entry} is not a GPU`;
  }
  if (/^GPU-/i.test(entry)) {
    const hits = byUuidPrefix(gpus, entry);
    if (hits.length === 1) return { gpu: hits[0].index, mig: false };
    return hits.length === 0 ? "no GPU has this UUID" : "this UUID prefix names several GPUs";
  }
  const legacy = /^MIG-(GPU-[0-9a-fA-F-]+)\/\d+\/\d+$/i.exec(entry);
  if (legacy) {
    const hits = byUuidPrefix(gpus, legacy[1]);
    return hits.length === 1 ? { gpu: hits[0].index, mig: true } : "no GPU has this parent UUID";
  }
  if (/^MIG-/i.test(entry)) {
    if (migParents === null) return "MIG devices could not be listed (nvidia-smi -L)";
    const hits = [...migParents].filter(([uuid]) =>
      uuid.toLowerCase().startsWith(entry.toLowerCase())
    );
    return hits.length === 1
      ? { gpu: hits[0][1], mig: true }
      : hits.length === 0
      ? "no MIG device has this UUID"
      : "this UUID prefix names several MIG devices";
  }
  return "it is neither an index, a GPU-<uuid> nor a MIG-<uuid>";
}

export function resolveVisibleDevices(
  raw: string,
  gpus: readonly KnownGpu[],
  migParents: ReadonlyMap<string, number> | null,
): Visibility {
  const devices: VisibleDevice[] = [];
  const reasons: string[] = [];
  const entries = raw.trim() === "" ? [] : raw.split(",").map((e) => e.trim());
  for (let k = 0; k < entries.length; k++) {
    const entry = entries[k];
    const hit = resolveEntry(entry, gpus, migParents);
    if (typeof hit !== "string" && (hit.mig || !devices.some((d) => d.gpu === hit.gpu))) {
      devices.push({ cudaIndex: devices.length, entry, gpu: hit.gpu, mig: hit.mig });
      continue;
    }
    const why = typeof hit === "string" ? hit : `GPU ${hit.gpu} is listed twice`;
    reasons.push(
      `CUDA_VISIBLE_DEVICES entry ${JSON.stringify(entry)} names no device (${why}); as in ` +
        `CUDA, it and every later entry are ignored: ${entries.slice(k).join(",")}`,
    );
    break;
  }
  return { devices, reasons };
}
