/**
 * The league's scenario suite: named partial simulation configs, each with a one-line reason,
 * in one data file (src/league/suite.json, or any file of the same shape). A scenario resolves
 * to a full SimConfig per seed; `maxRequests` caps every scenario (for quick slices), never
 * changing what a scenario is beyond its length.
 */
import { z } from "zod";
import { formatSchemaError } from "../core/config.ts";
import { readJson } from "../io/json_file.ts";
import { resolveSimConfig, type SimConfig, SimConfigError } from "../sim/config.ts";
import { SYNTHETIC_PRESETS } from "../workload/synthetic.ts";
import shipped from "./suite.json" with { type: "json" };

export const suiteSchema = z.object({
  description: z.string().optional(),
  scenarios: z.array(
    z.object({
      /** Also the scenario's run directory name. */
      name: z.string().regex(
        /^[a-z0-9][a-z0-9-]*$/,
        "must be lowercase letters, digits and dashes",
      ),
      /** Why the scenario is in the suite, in one line. */
      reason: z.string().min(1),
      /** A partial simulation config over DEFAULT_SIM_CONFIG (the seed is set per run). */
      config: z.record(z.string(), z.unknown()),
    }).strict(),
  ).min(1),
}).strict();

export type Suite = z.infer<typeof suiteSchema>;
export type Scenario = Suite["scenarios"][number];

export class SuiteError extends Error {
  override name = "SuiteError";
}

/** Validates a suite: the schema, unique names, and every scenario's config. */
export function parseSuite(input: unknown, where: string): Suite {
  const parsed = suiteSchema.safeParse(input);
  if (!parsed.success) {
    throw new SuiteError(formatSchemaError(`league suite ${where}`, parsed.error, input));
  }
  const seen = new Set<string>();
  for (const s of parsed.data.scenarios) {
    if (seen.has(s.name)) {
      throw new SuiteError(`Invalid league suite ${where}: scenario name '${s.name}' repeats`);
    }
    seen.add(s.name);
    try {
      scenarioConfig(s, 1);
    } catch (e) {
      if (e instanceof SimConfigError) {
        throw new SuiteError(`Invalid league suite ${where}: scenario '${s.name}': ${e.message}`);
      }
      throw e;
    }
  }
  return parsed.data;
}

/** The shipped suite, or the one in `path`. */
export async function loadSuite(path?: string): Promise<Suite> {
  if (path === undefined) return parseSuite(shipped, "src/league/suite.json");
  let input: unknown;
  try {
    input = await readJson(path, "league suite");
  } catch (e) {
    throw new SuiteError((e as Error).message);
  }
  return parseSuite(input, `'${path}'`);
}

/** Keeps the scenarios named in `names`, in the suite's order; unknown names are an error. */
export function selectScenarios(suite: Suite, names?: readonly string[]): Scenario[] {
  if (!names) return suite.scenarios;
  const known = new Set(suite.scenarios.map((s) => s.name));
  for (const n of names) {
    if (!known.has(n)) {
      throw new SuiteError(
        `--scenarios: unknown scenario '${n}': the suite has ${[...known].join(", ")}`,
      );
    }
  }
  return suite.scenarios.filter((s) => names.includes(s.name));
}

/** The scenario's full config for `seed`, with at most `maxRequests` requests when given. */
export function scenarioConfig(s: Scenario, seed: number, maxRequests?: number): SimConfig {
  const config = resolveSimConfig(s.config, { seed });
  return maxRequests === undefined ? config : capRequests(config, maxRequests);
}

function capRequests(config: SimConfig, cap: number): SimConfig {
  const w = config.workload;
  if (w.kind === "trace") {
    const maxRequests = Math.min(w.options.maxRequests ?? cap, cap);
    return { ...config, workload: { ...w, options: { ...w.options, maxRequests } } };
  }
  if (w.kind === "preset") {
    const given = (w.overrides.requests as number | undefined) ??
      SYNTHETIC_PRESETS[w.name]?.requests ?? cap;
    return {
      ...config,
      workload: { ...w, overrides: { ...w.overrides, requests: Math.min(given, cap) } },
    };
  }
  return { ...config, workload: { ...w, requests: Math.min(w.requests, cap) } };
}
