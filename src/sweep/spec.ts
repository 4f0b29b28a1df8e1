/**
 * A sweep spec (`pdroute sweep SPEC.json`, docs/SWEEP.md): one workload over a grid of pool
 * sizes x arrival rates x policies x seeds, on a base simulation config. Expands into one
 * RunSpec per grid point, in a fixed order (pools, then rates, then seeds, then policies), so
 * a sweep's points, directories and summary rows are the same wherever the points run.
 */
import { z } from "zod";
import { formatSchemaError } from "../core/config.ts";
import { isPolicyName, POLICY_NAMES, type PolicyName } from "../core/policies.ts";
import { resolveSimConfig, type SimConfig, SimConfigError } from "../sim/config.ts";
import type { RunSpec } from "../sim/run_spec.ts";

const poolsSchema = z.union([
  z.object({ prefillGpus: z.number().int().min(0), decodeGpus: z.number().int().min(1) }).strict(),
  z.object({ gpus: z.number().int().min(1) }).strict(),
]);

export const sweepSpecSchema = z.object({
  /** Names the sweep's directory (default: the spec file's name). */
  name: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
  /** Any part of the simulation config (as `simulate --config`), except what the grid sets. */
  base: z.record(z.string(), z.unknown()).default({}),
  /** The workload (as the config's `workload`): a preset with overrides, synthetic, or a trace. */
  workload: z.record(z.string(), z.unknown()),
  grid: z.object({
    /** Pool sizes: prefill + decode GPUs (layouts dual, conditional) or a shared pool. */
    pools: z.array(poolsSchema).min(1),
    /** Arrival rates in requests per second (synthetic workloads)... */
    ratePerSec: z.array(z.number().gt(0)).min(1).optional(),
    /** ... or rate multipliers (trace workloads). */
    rateScale: z.array(z.number().gt(0)).min(1).optional(),
    policies: z.array(z.string()).min(1),
    seeds: z.array(z.number().int().min(0).max(0xffffffff)).min(1).default([1]),
  }).strict(),
  /** The SLO goodput a configuration must reach on every seed to count as meeting it. */
  target: z.object({ goodputFraction: z.number().gt(0).max(1) }).strict().default({
    goodputFraction: 0.99,
  }),
}).strict();

export type SweepSpec = z.infer<typeof sweepSpecSchema>;

/** One grid point: where it sits in the grid and the run that simulates it. */
export interface SweepPoint {
  readonly index: number;
  readonly prefillGpus: number;
  readonly decodeGpus: number;
  /** GPUs in the fleet (engines x tensor parallel). */
  readonly gpus: number;
  readonly rate: number;
  readonly seed: number;
  readonly policy: PolicyName;
  /** The point's comparison directory, relative to the sweep's: one run directory per policy. */
  readonly group: string;
  readonly run: RunSpec;
}

export class SweepSpecError extends Error {
  override name = "SweepSpecError";
}

export function parseSweepSpec(input: unknown, file: string): SweepSpec {
  const parsed = sweepSpecSchema.safeParse(input);
  if (!parsed.success) {
    throw new SweepSpecError(formatSchemaError(`sweep spec ${file}`, parsed.error, input));
  }
  const spec = parsed.data;
  for (const p of spec.grid.policies) {
    if (!isPolicyName(p)) {
      throw new SweepSpecError(
        `Invalid sweep spec ${file}: 'grid.policies' has unknown policy '${p}'; known: ${
          POLICY_NAMES.join(", ")
        }`,
      );
    }
  }
  if (spec.base.layout === "shared" && spec.grid.pools.some((p) => !("gpus" in p))) {
    throw new SweepSpecError(
      `Invalid sweep spec ${file}: 'base.layout' shared takes pools as { "gpus": n }`,
    );
  }
  for (const key of ["gpus", "prefillGpus", "decodeGpus", "seed", "workload"]) {
    if (key in spec.base) {
      throw new SweepSpecError(
        `Invalid sweep spec ${file}: 'base.${key}' is set by the grid or 'workload': remove it`,
      );
    }
  }
  const trace = spec.workload.kind === "trace";
  if (
    trace
      ? !spec.grid.rateScale || spec.grid.ratePerSec
      : !spec.grid.ratePerSec || spec.grid.rateScale
  ) {
    throw new SweepSpecError(
      `Invalid sweep spec ${file}: a ${trace ? "trace" : "synthetic"} workload takes 'grid.${
        trace ? "rateScale" : "ratePerSec"
      }' (and not the other)`,
    );
  }
  return spec;
}

function workloadAt(spec: SweepSpec, rate: number): Record<string, unknown> {
  const w = spec.workload as Record<string, unknown>;
  if (w.kind === "trace") {
    return { ...w, options: { ...(w.options as object ?? {}), rateScale: rate } };
  }
  if (w.kind === "preset") {
    return { ...w, overrides: { ...(w.overrides as object ?? {}), ratePerSec: rate } };
  }
  return { ...w, ratePerSec: rate };
}

function poolName(p: SweepSpec["grid"]["pools"][number]): string {
  return "gpus" in p ? `shared${p.gpus}` : `p${p.prefillGpus}-d${p.decodeGpus}`;
}

/** Every grid point in order, with its resolved simulation config. */
export function expandSweep(spec: SweepSpec, sweepDir: string | null): SweepPoint[] {
  const points: SweepPoint[] = [];
  const rates = spec.grid.ratePerSec ?? spec.grid.rateScale!;
  for (const pools of spec.grid.pools) {
    for (const rate of rates) {
      for (const seed of spec.grid.seeds) {
        const layoutOf = (base: Record<string, unknown>) =>
          "gpus" in pools ? "shared" : base.layout ?? "conditional";
        let config: SimConfig;
        try {
          config = resolveSimConfig(spec.base, {
            layout: layoutOf(spec.base),
            ...pools,
            seed,
            workload: workloadAt(spec, rate),
          });
        } catch (e) {
          if (e instanceof SimConfigError) throw new SweepSpecError(e.message);
          throw e;
        }
        const engines = "gpus" in pools ? pools.gpus : pools.prefillGpus + pools.decodeGpus;
        const group = `${poolName(pools)}_rate${rate}_seed${seed}`;
        for (const policy of spec.grid.policies as PolicyName[]) {
          points.push({
            index: points.length,
            prefillGpus: "gpus" in pools ? 0 : pools.prefillGpus,
            decodeGpus: "gpus" in pools ? pools.gpus : pools.decodeGpus,
            gpus: engines * config.tensorParallel,
            rate,
            seed,
            policy,
            group,
            run: {
              config,
              choice: { label: policy, policy },
              dir: sweepDir === null ? null : `${sweepDir}/points/${group}/${policy}`,
            },
          });
        }
      }
    }
  }
  return points;
}
