/**
 * Runs on worker threads give what the same runs give one after another in this thread: the
 * same summaries in the same (spec) order and byte-identical run directories. A bad spec fails
 * the whole call with the same error class a serial run raises.
 */
import { deepEqual, equal, rejects } from "node:assert/strict";
import { resolveSimConfig } from "../../src/sim/config.ts";
import { type RunSpec, runSpecs } from "../../src/sim/parallel.ts";
import { runComparison } from "../../src/sim/run.ts";
import { TraceError } from "../../src/workload/trace_error.ts";
import { readTree } from "../_files.ts";

const small = (seed: number, requests: number) =>
  resolveSimConfig({
    seed,
    workload: { kind: "preset", name: "chat", overrides: { requests } },
  });

function specs(root: string): RunSpec[] {
  // Different sizes, so the workers finish out of order.
  return [
    { config: small(1, 900), choice: { label: "a", policy: "predictive" }, dir: `${root}/a` },
    { config: small(2, 200), choice: { label: "b", policy: "round-robin" }, dir: `${root}/b` },
    { config: small(3, 400), choice: { label: "c", policy: "llm-d" }, dir: `${root}/c` },
  ];
}

Deno.test("worker runs equal serial runs: summaries in spec order, identical files", async () => {
  const serialDir = await Deno.makeTempDir(), parallelDir = await Deno.makeTempDir();
  const serial = await runSpecs(specs(serialDir), { jobs: 1 });
  const finished: number[] = [];
  const parallel = await runSpecs(specs(parallelDir), {
    jobs: 2,
    onDone: (i) => finished.push(i),
  });
  deepEqual(parallel.map((r) => r.label), ["a", "b", "c"]);
  deepEqual(parallel.map((r) => r.summary), serial.map((r) => r.summary));
  deepEqual(finished.toSorted(), [0, 1, 2]);
  const a = await readTree(serialDir), b = await readTree(parallelDir);
  equal(Object.keys(a).length, 12);
  deepEqual(b, a);
});

Deno.test("a comparison with --jobs 2 writes what --jobs 1 writes", async () => {
  const out = await Deno.makeTempDir();
  const config = small(5, 500);
  const policies = [
    { label: "baseline", policy: "round-robin" },
    { label: "optimized", policy: "predictive" },
  ] as const;
  const one = await runComparison(config, { policies, outDir: out, runId: "one", jobs: 1 });
  const two = await runComparison(config, { policies, outDir: out, runId: "two", jobs: 2 });
  deepEqual(two.map((r) => r.summary), one.map((r) => r.summary));
  deepEqual(await readTree(`${out}/two`), await readTree(`${out}/one`));
});

Deno.test("an input error in a worker surfaces as the same error class", async () => {
  const bad = resolveSimConfig({
    workload: {
      kind: "trace",
      format: "azure",
      path: "/nonexistent.csv",
      options: { rateScale: 1 },
    },
  });
  const spec = { config: bad, choice: { label: "x", policy: "round-robin" }, dir: null } as const;
  await rejects(runSpecs([spec, spec], { jobs: 2 }), TraceError);
  await rejects(runSpecs([spec], { jobs: 1 }), TraceError);
});
