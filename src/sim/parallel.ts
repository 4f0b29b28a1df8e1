/**
 * Independent simulation runs (a comparison's policies, a sweep's points, a league's matches)
 * on up to `jobs` worker threads at once. Each run is a serialisable RunSpec executed from
 * scratch in its worker, so results, and the files each writes to its own run directory, are
 * byte-identical to running the specs one after another here (tests/sim/parallel_test.ts).
 * Results come back in the order of the specs, whatever order the runs finish in.
 */
import type { PolicyRun } from "./run.ts";
import { executeSpec, rebuildError, type RunSpec, type SpecError } from "./run_spec.ts";

export type { RunSpec } from "./run_spec.ts";

/** What a worker sends back. */
export type WorkerReply =
  | { kind: "progress"; index: number; simulatedMs: number; completed: number }
  | { kind: "done"; index: number; run: PolicyRun }
  | { kind: "error"; index: number; error: SpecError };

export interface ParallelOptions {
  /** Worker threads at most (default: the machine's cores); 1 runs the specs in this thread. */
  readonly jobs?: number;
  readonly onProgress?: (index: number, simulatedMs: number, completed: number) => void;
  /** Run on worker threads even with one job (keeps this thread's event loop free). */
  readonly thread?: boolean;
  /** Called as each run finishes (in finishing order). */
  readonly onDone?: (index: number, run: PolicyRun) => void;
}

/** The default `--jobs`: the cores this process may use. */
export function defaultJobs(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

export async function runSpecs(
  specs: readonly RunSpec[],
  options: ParallelOptions = {},
): Promise<PolicyRun[]> {
  const jobs = Math.max(1, Math.min(options.jobs ?? defaultJobs(), specs.length));
  if (jobs <= 1 && !options.thread) {
    const runs: PolicyRun[] = [];
    for (let i = 0; i < specs.length; i++) {
      const run = await executeSpec(specs[i], (ms, done) => options.onProgress?.(i, ms, done));
      options.onDone?.(i, run);
      runs.push(run);
    }
    return runs;
  }
  const results: PolicyRun[] = new Array(specs.length);
  const workers = Array.from(
    { length: jobs },
    () => new Worker(new URL("./run_worker.ts", import.meta.url).href, { type: "module" }),
  );
  let next = 0;
  try {
    await Promise.all(workers.map((worker) =>
      new Promise<void>((resolve, reject) => {
        const feed = () => {
          if (next >= specs.length) return resolve();
          const index = next++;
          worker.postMessage({ index, spec: specs[index] });
        };
        worker.onmessage = (event: MessageEvent<WorkerReply>) => {
          const reply = event.data;
          if (reply.kind === "progress") {
            options.onProgress?.(reply.index, reply.simulatedMs, reply.completed);
          } else if (reply.kind === "done") {
            results[reply.index] = reply.run;
            options.onDone?.(reply.index, reply.run);
            feed();
          } else {
            reject(rebuildError(reply.error));
          }
        };
        worker.onerror = (event: ErrorEvent) => {
          event.preventDefault();
          reject(new Error(`simulation worker failed: ${event.message}`));
        };
        feed();
      })
    ));
  } finally {
    for (const worker of workers) worker.terminate();
  }
  return results;
}
