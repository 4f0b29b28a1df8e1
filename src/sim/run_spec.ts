/**
 * One independent simulation run as plain data, so it can cross to a worker thread or another
 * machine: the resolved simulation config, the policy (by name, with its overrides in
 * `config.policy[name]`) and the label and directory its results go to. Executing a spec
 * places the fleet, builds it and replays the workload from scratch: the same spec gives the
 * same bytes wherever it runs.
 */
import { PolicyInputError } from "../core/errors.ts";
import { EngineModelError } from "../engine_model/setup.ts";
import { TopologyInputError } from "../topology/mod.ts";
import { WorkloadError } from "../workload/resolve.ts";
import { TraceError } from "../workload/trace_error.ts";
import { resolveWorkload } from "../workload/resolve.ts";
import { type SimConfig, SimConfigError } from "./config.ts";
import { buildFleet } from "./fleet.ts";
import { placeByTopology, type PolicyChoice, type PolicyRun, runPolicy } from "./run.ts";

export interface RunSpec {
  readonly config: SimConfig;
  readonly choice: PolicyChoice;
  /** The run directory (created; config.json, summary.json, requests.csv, timeline.csv). */
  readonly dir: string | null;
}

export async function executeSpec(
  spec: RunSpec,
  onProgress?: (simulatedMs: number, completed: number) => void,
): Promise<PolicyRun> {
  const placed = await placeByTopology(spec.config);
  const fleet = buildFleet(placed.config, placed.placements);
  const workload = resolveWorkload(placed.config.workload, placed.config.seed);
  return await runPolicy(
    placed.config,
    fleet,
    workload,
    spec.choice,
    spec.dir,
    onProgress && ((_label, ms, done) => onProgress(ms, done)),
  );
}

/** An error as it crosses a thread or the network. */
export interface SpecError {
  readonly name: string;
  readonly message: string;
}

/** The input errors a run can raise, rebuilt by name on the other side (the CLI maps them). */
const KNOWN: Readonly<Record<string, new (message: string) => Error>> = {
  SimConfigError,
  TraceError,
  WorkloadError,
  TopologyInputError,
  PolicyInputError,
  EngineModelError,
};

export function specError(e: unknown): SpecError {
  return e instanceof Error
    ? { name: e.name, message: e.message }
    : { name: "Error", message: String(e) };
}

export function rebuildError(e: SpecError): Error {
  const Known = KNOWN[e.name];
  if (Known) return new Known(e.message);
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}
