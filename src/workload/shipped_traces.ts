/**
 * The traces shipped in the repository's data/ folder (data/README.md: sources, licences,
 * checksums), by short name: `--trace azure-conv` or a workload entry's `path: "azure-conv"`
 * reads the shipped file wherever the command runs from. Anything else is a path.
 */
import { fileURLToPath } from "node:url";
import { TraceError } from "./trace_error.ts";

export type TraceFormat = "azure" | "mooncake";

export const SHIPPED_TRACES: Readonly<Record<string, { file: string; format: TraceFormat }>> = {
  "azure-conv": { file: "traces/azure2023_conv.csv.gz", format: "azure" },
  "azure-code": { file: "traces/azure2023_code.csv.gz", format: "azure" },
  "mooncake-conversation": { file: "traces/mooncake_conversation.jsonl.gz", format: "mooncake" },
  "mooncake-synthetic": { file: "traces/mooncake_synthetic.jsonl.gz", format: "mooncake" },
};

/** A path inside the repository's data/ folder. */
export function dataFile(relative: string): string {
  return fileURLToPath(new URL(`../../data/${relative}`, import.meta.url));
}

/** The file a `--trace` value names: a shipped trace's short name, else the path itself. */
export function tracePath(nameOrPath: string): string {
  const shipped = SHIPPED_TRACES[nameOrPath];
  return shipped ? dataFile(shipped.file) : nameOrPath;
}

/** The format of a trace: a short name's, else from the extension (.csv / .jsonl, maybe .gz). */
export function traceFormat(nameOrPath: string): TraceFormat {
  const shipped = SHIPPED_TRACES[nameOrPath];
  if (shipped) return shipped.format;
  const name = nameOrPath.replace(/\.gz$/, "");
  if (name.endsWith(".jsonl")) return "mooncake";
  if (name.endsWith(".csv")) return "azure";
  throw new TraceError(
    `--trace: cannot tell the format of '${nameOrPath}': expected a .csv (Azure) or .jsonl ` +
      `(Mooncake) file, optionally .gz, or a shipped trace: ${
        Object.keys(SHIPPED_TRACES).join(", ")
      }`,
  );
}
