/**
 * Parser for `nvidia-smi -L`, needed only to map MIG device UUIDs (MIG-<uuid>, as listed under
 * their parent GPU) back to that GPU:
 *   GPU 0: NVIDIA A100-PCIE-40GB (UUID: GPU-...)
 *     MIG 3g.20gb     Device  0: (UUID: MIG-...)
 */
import { ToolOutputError } from "./errors.ts";

const SOURCE = "nvidia-smi -L output";
const GPU_LINE = /^GPU (\d+): (.+) \(UUID: (GPU-[0-9a-fA-F-]+)\)$/;
const MIG_LINE = /^MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[^)\s]+)\)$/;

export interface ListedGpu {
  readonly index: number;
  readonly uuid: string;
  readonly migUuids: readonly string[];
}

export function parseGpuList(text: string): ListedGpu[] {
  const gpus: { index: number; uuid: string; migUuids: string[] }[] = [];
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (line === "") return;
    const gpu = GPU_LINE.exec(line);
    if (gpu) {
      gpus.push({ index: Number(gpu[1]), uuid: gpu[3], migUuids: [] });
      return;
    }
    const mig = MIG_LINE.exec(line);
    if (mig && gpus.length > 0) {
      gpus[gpus.length - 1].migUuids.push(mig[3]);
      return;
    }
    throw new ToolOutputError(
      SOURCE,
      i + 1,
      "the line",
      line,
      "is neither 'GPU n: name (UUID: GPU-...)' nor a MIG device under one",
    );
  });
  return gpus;
}
