/**
 * Parser for `nvidia-smi --query-gpu=index,name,pci.bus_id,uuid,memory.total
 * --format=csv,noheader`: one line per physical GPU, e.g.
 * `0, NVIDIA H100 80GB HBM3, 00000000:18:00.0, GPU-2b3c..., 81559 MiB`.
 */
import { ToolOutputError } from "./errors.ts";

export const QUERY_GPU_FIELDS = ["index", "name", "pci.bus_id", "uuid", "memory.total"] as const;
export const QUERY_GPU_ARGS: readonly string[] = [
  `--query-gpu=${QUERY_GPU_FIELDS.join(",")}`,
  "--format=csv,noheader",
];

export interface QueriedGpu {
  readonly index: number;
  readonly name: string;
  /** Normalised (see `normalizePciBusId`). */
  readonly pciBusId: string;
  readonly uuid: string;
  readonly memoryMiB: number | null;
}

const SOURCE = "nvidia-smi --query-gpu output";
const BUS_ID = /^([0-9a-fA-F]{1,8}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;
const UUID = /^GPU-[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$/;
/** Values nvidia-smi prints when a field does not apply (e.g. memory.total on unified memory). */
const NOT_AVAILABLE = new Set(["[N/A]", "N/A", "[Not Supported]"]);

/**
 * nvidia-smi prints an 8-digit upper-case domain (00000000:3B:00.0), sysfs a 4-digit lower-case
 * one (0000:3b:00.0), and domains above ffff (Intel VMD) with 5+ digits: one canonical form.
 * Returns null when `text` is not a PCI address.
 */
export function normalizePciBusId(text: string): string | null {
  const m = BUS_ID.exec(text.trim());
  if (!m) return null;
  const domain = parseInt(m[1], 16).toString(16).padStart(4, "0");
  return `${domain}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
}

function parseMemory(text: string, line: number): number | null {
  if (NOT_AVAILABLE.has(text)) return null;
  const m = /^(\d+)(?:\s*MiB)?$/.exec(text);
  if (!m) {
    throw new ToolOutputError(SOURCE, line, "field 'memory.total'", text, "is not '<n> MiB'");
  }
  return Number(m[1]);
}

export function parseQueryGpu(text: string): QueriedGpu[] {
  const gpus: QueriedGpu[] = [];
  const seen = new Set<number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    const line = i + 1;
    if (raw === "" || /^index\s*,\s*name\b/.test(raw)) continue; // blank, or a csv header
    if (raw === "No devices were found") return [];
    const fields = raw.split(",").map((f) => f.trim());
    if (fields.length < QUERY_GPU_FIELDS.length) {
      throw new ToolOutputError(
        SOURCE,
        line,
        "the line",
        raw,
        `has ${fields.length} comma-separated fields, expected ${QUERY_GPU_FIELDS.length} (${
          QUERY_GPU_FIELDS.join(", ")
        })`,
      );
    }
    // The name is the only field that could contain a comma: take the fixed fields from the ends.
    const [indexText] = fields;
    const [busText, uuid, memoryText] = fields.slice(-3);
    const name = fields.slice(1, -3).join(", ");
    if (!/^\d+$/.test(indexText)) {
      throw new ToolOutputError(SOURCE, line, "field 'index'", indexText, "is not an integer");
    }
    const index = Number(indexText);
    if (seen.has(index)) {
      throw new ToolOutputError(SOURCE, line, "field 'index'", indexText, "repeats an earlier GPU");
    }
    seen.add(index);
    if (name === "") throw new ToolOutputError(SOURCE, line, "field 'name'", name, "is empty");
    const pciBusId = normalizePciBusId(busText);
    if (pciBusId === null) {
      throw new ToolOutputError(
        SOURCE,
        line,
        "field 'pci.bus_id'",
        busText,
        "is not a PCI address like 00000000:3B:00.0",
      );
    }
    if (!UUID.test(uuid)) {
      throw new ToolOutputError(SOURCE, line, "field 'uuid'", uuid, "is not a GPU-<uuid>");
    }
    gpus.push({ index, name, pciBusId, uuid, memoryMiB: parseMemory(memoryText, line) });
  }
  return gpus.sort((a, b) => a.index - b.index);
}
