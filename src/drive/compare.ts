/**
 * Comparisons on live engines (or emulators): the same workload through a router started here
 * for each layout and policy. Layouts: `shared` (every engine prefills and decodes, never
 * disaggregate), `dual` (the first `prefillCount` engines prefill, the rest decode, always
 * disaggregate), `conditional` (those pools, disaggregating per request). Policies: any of the
 * policy table (src/core/policies.ts); round robin's runs are labelled `baseline` and
 * predictive's `optimized`, the peers' by name. Each run gets its own run directory, so the
 * per-pool TTFT, queue depth and per-GPU admissions of every layout sit side by side.
 */
import { policyFields, type PolicyName } from "../core/policies.ts";
import { resolveRouterConfig, type RouterConfigInput } from "../router/config.ts";
import { startRouter } from "../router/server.ts";
import { type DriveOptions, type DriveResult, runDrive } from "./load.ts";
import { discoverTarget } from "./targets.ts";

export type Layout = "shared" | "dual" | "conditional";
export type { PolicyName } from "../core/policies.ts";

export interface FleetRun {
  readonly label: string;
  readonly layout: Layout;
  readonly policy: PolicyName;
}

/** Every layout x policy, labelled by what varies. */
export function fleetRuns(layouts: readonly Layout[], policies: readonly PolicyName[]): FleetRun[] {
  const out: FleetRun[] = [];
  for (const layout of layouts) {
    for (const policy of policies) {
      const p = policy === "round-robin"
        ? "baseline"
        : policy === "predictive"
        ? "optimized"
        : policy;
      const label = layouts.length > 1 && policies.length > 1
        ? `${layout}-${p}`
        : layouts.length > 1
        ? layout
        : p;
      out.push({ label, layout, policy });
    }
  }
  return out;
}

export interface EngineSpec {
  readonly url: string;
  readonly gpu: number;
}

/** The router config for one run over `engines`. */
export function routerConfigFor(
  run: FleetRun,
  engines: readonly EngineSpec[],
  prefillCount: number,
  base: RouterConfigInput,
) {
  if (run.layout !== "shared" && (prefillCount < 1 || prefillCount >= engines.length)) {
    throw new Error(
      `layout '${run.layout}' needs at least one prefill and one decode engine: ` +
        `--prefill-count is ${prefillCount} of ${engines.length} engines`,
    );
  }
  const endpoints = engines.map((e, i) => ({
    url: e.url,
    gpu: e.gpu,
    role: run.layout === "shared"
      ? "both" as const
      : i < prefillCount
      ? "prefill" as const
      : "decode" as const,
  }));
  const disaggregation = run.layout === "shared"
    ? "never"
    : run.layout === "dual"
    ? "always"
    : "conditional";
  // Shared overrides apply where the policy has the field (a migration budget means nothing
  // to a peer, whose schema would reject it).
  const fields = policyFields(run.policy);
  const shared = Object.fromEntries(
    Object.entries(base.policy ?? {}).filter(([k]) => fields.has(k) && k !== "policy"),
  );
  return resolveRouterConfig({ ...base, policy: {} }, {
    port: 0,
    endpoints,
    policy: { ...shared, policy: run.policy, disaggregation },
  });
}

export interface ComparisonRun {
  readonly run: FleetRun;
  readonly result: DriveResult;
  readonly dir: string | null;
}

export async function runFleetComparison(
  runs: readonly FleetRun[],
  engines: readonly EngineSpec[],
  prefillCount: number,
  routerBase: RouterConfigInput,
  drive: Omit<DriveOptions, "label" | "target" | "dir">,
  root: string | null,
): Promise<ComparisonRun[]> {
  const out: ComparisonRun[] = [];
  for (const run of runs) {
    const router = await startRouter(routerConfigFor(run, engines, prefillCount, routerBase));
    try {
      const target = await discoverTarget(router.url);
      const dir = root ? `${root}/${run.label}` : null;
      const result = await runDrive({ ...drive, label: run.label, target, dir });
      out.push({ run, result, dir });
    } finally {
      await router.close();
    }
  }
  return out;
}
