/**
 * A worker thread of src/sim/parallel.ts: executes the run specs it is sent, one at a time,
 * and answers with progress, the result or the error, each tagged with the spec's index.
 */
/// <reference lib="deno.worker" />
import { executeSpec, type RunSpec, specError } from "./run_spec.ts";
import type { WorkerReply } from "./parallel.ts";

const post = (reply: WorkerReply) => self.postMessage(reply);

self.onmessage = async (event: MessageEvent<{ index: number; spec: RunSpec }>) => {
  const { index, spec } = event.data;
  let last = 0;
  try {
    const run = await executeSpec(spec, (simulatedMs, completed) => {
      // At most ten progress messages a second per worker.
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      post({ kind: "progress", index, simulatedMs, completed });
    });
    post({ kind: "done", index, run });
  } catch (e) {
    post({ kind: "error", index, error: specError(e) });
  }
};
