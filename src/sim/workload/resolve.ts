/** Turns the config's workload entry into a request source and a name for reports. */
import type { SimConfig } from "../config.ts";
import { mergeConfig, SimConfigError } from "../config.ts";
import { formatSchemaError } from "../../core/config.ts";
import { azureTraceSource } from "./azure_trace.ts";
import { mooncakeTraceSource } from "./mooncake_trace.ts";
import type { RequestSource } from "./request.ts";
import {
  SYNTHETIC_PRESETS,
  syntheticSource,
  type SyntheticWorkload,
  syntheticWorkloadSchema,
} from "./synthetic.ts";

export interface ResolvedWorkload {
  readonly name: string;
  /** A fresh source each call: every policy in a comparison replays the same requests. */
  open(): RequestSource;
}

export function resolveWorkload(config: SimConfig): ResolvedWorkload {
  const w = config.workload;
  if (w.kind === "trace") {
    const open = () =>
      w.format === "azure"
        ? azureTraceSource(w.path, w.options)
        : mooncakeTraceSource(w.path, w.options);
    return { name: `${w.format}:${w.path.split("/").pop()}`, open };
  }
  let spec: SyntheticWorkload;
  let name: string;
  if (w.kind === "preset") {
    const preset = SYNTHETIC_PRESETS[w.name];
    if (!preset) {
      throw new SimConfigError(
        `Invalid simulation config: unknown workload '${w.name}'; known: ${
          Object.keys(SYNTHETIC_PRESETS).join(", ")
        }`,
      );
    }
    const merged = mergeConfig(preset, w.overrides);
    const parsed = syntheticWorkloadSchema.safeParse(merged);
    if (!parsed.success) {
      throw new SimConfigError(formatSchemaError(`workload '${w.name}'`, parsed.error, merged));
    }
    spec = parsed.data;
    name = w.name;
  } else {
    spec = w;
    name = "synthetic";
  }
  return { name, open: () => syntheticSource(spec, config.seed, name) };
}
