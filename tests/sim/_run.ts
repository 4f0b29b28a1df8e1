/** Runs a comparison in memory (no artifacts) for tests. */
import { resolveSimConfig } from "../../src/sim/config.ts";
import type { RunSummary } from "../../src/metrics/run_metrics.ts";
import { type Mode, runComparison } from "../../src/sim/run.ts";

export async function compare(
  config: Record<string, unknown>,
  mode: Mode = "both",
): Promise<Record<string, RunSummary>> {
  const runs = await runComparison(resolveSimConfig(config), { mode, outDir: null, runId: "test" });
  return Object.fromEntries(runs.map((r) => [r.label, r.summary]));
}

export function trace(
  format: "azure" | "mooncake",
  path: string,
  options: Record<string, unknown> = {},
) {
  return { kind: "trace", format, path, options: { rateScale: 1, ...options } };
}
