/**
 * A workload entry (a named synthetic preset with overrides, a full synthetic spec, or a trace
 * file) and how it becomes a request source. Shared by the simulator and the load driver, so
 * one workload description replays identically in both.
 */
import { z } from "zod";
import { formatSchemaError, mergeObjects } from "../core/config.ts";
import { azureTraceSource } from "./azure_trace.ts";
import { mooncakeTraceSource } from "./mooncake_trace.ts";
import type { RequestSource, SimRequest } from "./request.ts";
import {
  SYNTHETIC_PRESETS,
  syntheticSource,
  type SyntheticWorkload,
  syntheticWorkloadSchema,
} from "./synthetic.ts";
import { traceOptionsSchema } from "./trace_options.ts";

export const workloadSpecSchema = z.union([
  z.object({
    kind: z.literal("preset"),
    name: z.string(),
    overrides: z.record(z.string(), z.unknown()),
  }).strict(),
  syntheticWorkloadSchema,
  z.object({
    kind: z.literal("trace"),
    format: z.enum(["azure", "mooncake"]),
    path: z.string().min(1),
    options: traceOptionsSchema,
  }).strict(),
]);

export type WorkloadSpec = z.infer<typeof workloadSpecSchema>;

/** A workload entry that names an unknown preset or overrides one badly. */
export class WorkloadError extends Error {
  override name = "WorkloadError";
}

export interface ResolvedWorkload {
  readonly name: string;
  /** A fresh source each call: every policy in a comparison replays the same requests. */
  open(): RequestSource;
}

export function resolveWorkload(w: WorkloadSpec, seed: number): ResolvedWorkload {
  if (w.kind === "trace") {
    const open = () =>
      w.format === "azure"
        ? azureTraceSource(w.path, w.options)
        : mooncakeTraceSource(w.path, w.options);
    return { name: `${w.format}:${w.path.split("/").pop()!.replace(/\.gz$/, "")}`, open };
  }
  let spec: SyntheticWorkload;
  let name: string;
  if (w.kind === "preset") {
    const preset = SYNTHETIC_PRESETS[w.name];
    if (!preset) {
      throw new WorkloadError(
        `Invalid workload: unknown workload '${w.name}'; known: ${
          Object.keys(SYNTHETIC_PRESETS).join(", ")
        }`,
      );
    }
    const merged = mergeObjects(preset, w.overrides);
    const parsed = syntheticWorkloadSchema.safeParse(merged);
    if (!parsed.success) {
      throw new WorkloadError(formatSchemaError(`workload '${w.name}'`, parsed.error, merged));
    }
    spec = parsed.data;
    name = w.name;
  } else {
    spec = w;
    name = "synthetic";
  }
  return { name, open: () => syntheticSource(spec, seed, name) };
}

/**
 * Opens `w` and reads its first batch up front, so a workload that yields no request is an
 * error before a run writes anything (trace readers name the file and why).
 */
export async function openNonEmpty(w: ResolvedWorkload): Promise<RequestSource> {
  const source = w.open();
  let pending: SimRequest[] | null = await source.next();
  if (pending.length === 0) {
    throw new WorkloadError(`workload '${w.name}' (${source.description}) yields no requests`);
  }
  return {
    description: source.description,
    next(): Promise<SimRequest[]> {
      if (pending === null) return source.next();
      const batch = pending;
      pending = null;
      return Promise.resolve(batch);
    },
  };
}
