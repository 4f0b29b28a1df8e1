/**
 * Parser for `nvidia-smi topo -m`: a header row of device labels (GPU0.., NIC0.. or, from older
 * drivers, mlx5_0..) followed by attribute columns (CPU Affinity, NUMA Affinity, GPU NUMA ID),
 * one row per device, then a legend. Cells are tab separated in real output, but copies expand
 * tabs to spaces, terminals add ANSI underline codes and Windows adds CRs: all are accepted.
 * Multi-word header names are the only cells with spaces, so rows split on any whitespace.
 */
import { ToolOutputError } from "./errors.ts";
import { CPULIST } from "./schema.ts";

const SOURCE = "nvidia-smi topo -m output";
// Terminals get the header underlined with ANSI escapes (ESC [ 4 m ... ESC [ 0 m).
// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const GPU_LABEL = /^GPU(\d+)$/;
/** GPU0, NIC0, and the NIC device names older drivers used as labels (mlx5_0, bnxt_re1). */
const DEVICE_LABEL = /^(GPU\d+|NIC\d+|[a-z][a-z0-9]*_[a-z0-9_]*\d)$/i;
const CELL = /^(X|NV[1-9]\d*|PIX|PXB|PHB|NODE|SYS|SOC)$/;
const KNOWN_ATTRIBUTES = ["CPU Affinity", "NUMA Affinity", "GPU NUMA ID"] as const;
const NUMA_LIST = /^\d+([-,]\d+)*$/;

export interface TopoGpuRow {
  /** Verbatim column values; null for N/A or when the driver prints no such column. */
  readonly cpuAffinity: string | null;
  readonly numaAffinity: string | null;
  readonly gpuNumaId: number | null;
}

export interface TopoMatrix {
  /** GPU indexes in column order. */
  readonly gpus: readonly number[];
  /** cells[i][j]: the path between gpus[i] and gpus[j] ("X" on the diagonal; SOC read as SYS). */
  readonly cells: readonly (readonly string[])[];
  readonly rows: readonly TopoGpuRow[];
  readonly nics: readonly { readonly label: string; readonly name: string | null }[];
}

/** Header cells: tab separated when tabs survive, else whitespace words re-joined by name. */
function headerCells(line: string): string[] {
  if (line.includes("\t")) return line.split("\t").map((c) => c.trim()).filter((c) => c !== "");
  const words = line.trim().split(/\s+/);
  const cells: string[] = [];
  for (let i = 0; i < words.length;) {
    const known = KNOWN_ATTRIBUTES.find((name) => {
      const parts = name.split(" ");
      return parts.every((p, k) => words[i + k] === p);
    });
    const width = known ? known.split(" ").length : 1;
    cells.push(known ?? words[i]);
    i += width;
  }
  return cells;
}

function normaliseCell(cell: string): string {
  const upper = cell.toUpperCase();
  return upper === "SOC" ? "SYS" : upper; // SOC: the pre-2017 name of SYS
}

function orNull(value: string | undefined): string | null {
  return value === undefined || value === "N/A" ? null : value;
}

function gpuRow(
  labels: readonly string[],
  values: readonly string[],
  line: number,
): TopoGpuRow {
  const get = (name: string) => orNull(values[labels.indexOf(name)]);
  const cpuAffinity = get("CPU Affinity");
  const numaAffinity = get("NUMA Affinity");
  const gpuNumaIdText = get("GPU NUMA ID");
  if (cpuAffinity !== null && !CPULIST.test(cpuAffinity)) {
    throw new ToolOutputError(SOURCE, line, "column 'CPU Affinity'", cpuAffinity, "is no cpulist");
  }
  if (numaAffinity !== null && !NUMA_LIST.test(numaAffinity)) {
    throw new ToolOutputError(
      SOURCE,
      line,
      "column 'NUMA Affinity'",
      numaAffinity,
      "is not a NUMA node list",
    );
  }
  if (gpuNumaIdText !== null && !/^\d+$/.test(gpuNumaIdText)) {
    throw new ToolOutputError(SOURCE, line, "column 'GPU NUMA ID'", gpuNumaIdText, "is no integer");
  }
  return {
    cpuAffinity,
    numaAffinity,
    gpuNumaId: gpuNumaIdText === null ? null : Number(gpuNumaIdText),
  };
}

export function parseTopoMatrix(text: string): TopoMatrix {
  const lines = text.replace(ANSI, "").split(/\r?\n/);
  const headerAt = lines.findIndex((l) => l.trim().split(/\s+/)[0] === "GPU0");
  if (headerAt < 0) {
    const first = lines.find((l) => l.trim() !== "") ?? "";
    throw new ToolOutputError(SOURCE, null, "the header", first.trim(), "has no GPU0 column");
  }
  const header = headerCells(lines[headerAt]);
  const deviceCount = header.findIndex((c) => !DEVICE_LABEL.test(c));
  const devices = deviceCount < 0 ? header : header.slice(0, deviceCount);
  const attributes = deviceCount < 0 ? [] : header.slice(deviceCount);
  if (new Set(devices).size !== devices.length) {
    throw new ToolOutputError(
      SOURCE,
      headerAt + 1,
      "the header",
      devices.join(" "),
      "repeats a label",
    );
  }

  const cellsByLabel = new Map<string, string[]>();
  const rowsByLabel = new Map<string, TopoGpuRow>();
  const lineByLabel = new Map<string, number>();
  const nicNames = new Map<string, string>();
  let section: "matrix" | "legend" | "nic-legend" = "matrix";
  for (let i = headerAt + 1; i < lines.length; i++) {
    const line = i + 1;
    const trimmed = lines[i].trim();
    if (trimmed === "") continue;
    if (/^NIC Legend:?$/i.test(trimmed)) {
      section = "nic-legend";
      continue;
    }
    if (/^Legend:?$/i.test(trimmed)) {
      section = "legend";
      continue;
    }
    if (section === "legend") continue; // prose: "X = Self", "SYS = Connection traversing ..."
    if (section === "nic-legend") {
      const m = /^(NIC\d+):\s*(\S+)$/.exec(trimmed);
      if (!m) {
        throw new ToolOutputError(
          SOURCE,
          line,
          "the NIC legend entry",
          trimmed,
          "is not 'NICn: name'",
        );
      }
      nicNames.set(m[1], m[2]);
      continue;
    }
    const tokens = trimmed.split(/\s+/);
    const label = tokens[0];
    if (!devices.includes(label)) {
      throw new ToolOutputError(
        SOURCE,
        line,
        "the row label",
        label,
        `is not a column of the header (${devices.join(", ")})`,
      );
    }
    if (cellsByLabel.has(label)) {
      throw new ToolOutputError(SOURCE, line, `row ${label}`, trimmed, "appears twice");
    }
    const cells = tokens.slice(1, 1 + devices.length);
    if (cells.length < devices.length) {
      throw new ToolOutputError(
        SOURCE,
        line,
        `row ${label}`,
        trimmed,
        `has ${cells.length} link cells, expected ${devices.length}`,
      );
    }
    cells.forEach((cell, k) => {
      if (!CELL.test(cell.toUpperCase())) {
        throw new ToolOutputError(
          SOURCE,
          line,
          `row ${label}, column ${devices[k]}`,
          cell,
          "is not one of X, NV#, PIX, PXB, PHB, NODE, SYS",
        );
      }
    });
    cellsByLabel.set(label, cells.map(normaliseCell));
    lineByLabel.set(label, line);
    const values = tokens.slice(1 + devices.length);
    const isGpu = GPU_LABEL.test(label);
    // NIC rows carry no affinity values; GPU rows carry exactly one per attribute column.
    if (isGpu ? values.length !== attributes.length : values.length > attributes.length) {
      throw new ToolOutputError(
        SOURCE,
        line,
        `row ${label}`,
        values.join(" "),
        `has ${values.length} values after the link cells, expected ${attributes.length} (${
          attributes.join(", ") || "none"
        })`,
      );
    }
    if (isGpu) rowsByLabel.set(label, gpuRow(attributes, values, line));
  }

  const gpuColumns = devices.map((d, k) => ({ d, k })).filter(({ d }) => GPU_LABEL.test(d));
  for (const d of devices) {
    if (!cellsByLabel.has(d)) {
      throw new ToolOutputError(SOURCE, null, `row ${d}`, "", "is missing (the header names it)");
    }
  }
  const cells = gpuColumns.map(({ d }) => gpuColumns.map(({ k }) => cellsByLabel.get(d)![k]));
  gpuColumns.forEach(({ d: a }, i) => {
    const line = lineByLabel.get(a)!;
    if (cells[i][i] !== "X") {
      throw new ToolOutputError(SOURCE, line, `row ${a}, column ${a}`, cells[i][i], "is not X");
    }
    gpuColumns.forEach(({ d: b }, j) => {
      if (cells[i][j] !== cells[j][i]) {
        throw new ToolOutputError(
          SOURCE,
          line,
          `row ${a}, column ${b}`,
          cells[i][j],
          `disagrees with row ${b}, column ${a} (${cells[j][i]}); the matrix must be symmetric`,
        );
      }
      if (i !== j && cells[i][j] === "X") {
        throw new ToolOutputError(
          SOURCE,
          null,
          `row ${a}, column ${b}`,
          "X",
          "is X off the diagonal",
        );
      }
    });
  });
  return {
    gpus: gpuColumns.map(({ d }) => Number(GPU_LABEL.exec(d)![1])),
    cells,
    rows: gpuColumns.map(({ d }) => rowsByLabel.get(d)!),
    nics: devices.filter((d) => !GPU_LABEL.test(d)).map((label) => ({
      label,
      name: nicNames.get(label) ?? (/^NIC\d+$/.test(label) ? null : label),
    })),
  };
}
