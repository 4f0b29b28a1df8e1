/**
 * Whole-simulation properties: determinism down to the bytes, both scoring cores giving the
 * same run, every request accounted exactly once, KV transfer paying by link class, the
 * migration budget holding in simulated time, shedding under overload, and config errors that
 * name the field and the value.
 */
import { deepEqual, equal, notEqual, ok, throws } from "node:assert/strict";
import { resolveSimConfig, SimConfigError } from "../../src/sim/config.ts";
import { buildFleet, DEFAULT_PLACEMENT } from "../../src/sim/fleet.ts";
import { runComparison } from "../../src/sim/run.ts";
import { compare } from "./_run.ts";

const SMALL = { workload: { kind: "preset", name: "chat", overrides: { requests: 600 } } };

async function runToDir(config: Record<string, unknown>): Promise<string> {
  const out = await Deno.makeTempDir();
  await runComparison(resolveSimConfig(config), { mode: "both", outDir: out, runId: "run" });
  return `${out}/run`;
}

Deno.test("same seed and inputs: byte-identical summary.json, requests.csv and timeline.csv", async () => {
  const a = await runToDir(SMALL), b = await runToDir(SMALL);
  for (const label of ["baseline", "optimized"]) {
    for (const file of ["summary.json", "requests.csv", "timeline.csv", "config.json"]) {
      const [x, y] = await Promise.all([
        Deno.readFile(`${a}/${label}/${file}`),
        Deno.readFile(`${b}/${label}/${file}`),
      ]);
      deepEqual(x, y, `${label}/${file}`);
    }
  }
  const other = await runToDir({ ...SMALL, seed: 2 });
  notEqual(
    await Deno.readTextFile(`${a}/optimized/summary.json`),
    await Deno.readTextFile(`${other}/optimized/summary.json`),
  );
});

Deno.test("the WASM core and the TS reference produce the same simulation", async () => {
  const wasm = await compare({ ...SMALL, router: { implementation: "wasm" } }, "optimized");
  const reference = await compare(
    { ...SMALL, router: { implementation: "reference" } },
    "optimized",
  );
  const strip = (s: object) =>
    JSON.parse(JSON.stringify(s, (k, v) => (k === "implementation" ? undefined : v)));
  deepEqual(strip(wasm.optimized), strip(reference.optimized));
  ok(wasm.optimized.migrations > 0, "the run exercised migration");
});

Deno.test("every request is accounted exactly once, in the summary and in requests.csv", async () => {
  const dir = await runToDir(SMALL);
  for (const label of ["baseline", "optimized"]) {
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/${label}/summary.json`));
    const rows = (await Deno.readTextFile(`${dir}/${label}/requests.csv`)).trim().split("\n").slice(
      1,
    );
    equal(rows.length, 600);
    deepEqual(new Set(rows.map((r) => Number(r.split(",")[0]))).size, 600);
    const { completed, shed, rejected, total } = summary.requests;
    equal(completed + shed + rejected, total);
    equal(total, 600);
  }
});

Deno.test("disaggregated TTFT pays for the KV transfer by link class", async () => {
  const config = resolveSimConfig({
    layout: "dual",
    prefillGpus: [0],
    decodeGpus: [1],
    workload: {
      kind: "preset",
      name: "poisson",
      overrides: { requests: 200, ratePerSec: 2, longFraction: 1 },
    },
  });
  const ttft = async (hostOf: (gpu: number) => number) => {
    const [run] = await runComparison(config, {
      mode: "optimized",
      outDir: null,
      runId: "t",
      placements: (gpu) => ({ ...DEFAULT_PLACEMENT, hostId: hostOf(gpu) }),
    });
    return run.summary.ttftMs.p50;
  };
  const sameHost = await ttft(() => 0), acrossNetwork = await ttft((gpu) => gpu);
  // ~6k-token prompts x 128 KiB/token: ~0.8 GB at 25 GB/s (PCIe) vs 12.5 GB/s (network).
  ok(acrossNetwork - sameHost > 20, `network ${acrossNetwork} ms vs PCIe ${sameHost} ms`);
});

Deno.test("migrations stay within the budget per simulated window, and zero budget means none", async () => {
  const budget = 5;
  const runs = await compare(
    { ...SMALL, policy: { predictive: { migration: { budget, windowMs: 1e9 } } } },
    "optimized",
  );
  ok(
    runs.optimized.migrations > 0 && runs.optimized.migrations <= budget,
    `${runs.optimized.migrations} migrations`,
  );
  const none = await compare(
    { ...SMALL, policy: { predictive: { migration: { budget: 0 } } } },
    "optimized",
  );
  equal(none.optimized.migrations, 0);
});

Deno.test("overload sheds after the router queue timeout, and nothing is lost", async () => {
  const runs = await compare({
    decodeGpus: 1,
    prefillGpus: 1,
    router: { queueTimeoutMs: 500 },
    workload: { kind: "preset", name: "poisson", overrides: { requests: 3000, ratePerSec: 400 } },
  }, "optimized");
  const r = runs.optimized.requests;
  ok(r.shed > 0, "some requests were shed");
  equal(r.completed + r.shed + r.rejected, 3000);
});

Deno.test("layouts: shared, dual and conditional pools run and report per-pool TTFT", async () => {
  for (
    const [layout, pools] of [["shared", ["shared"]], ["dual", ["prefill"]], ["conditional", [
      "decode",
      "prefill",
    ]]] as const
  ) {
    // Dual pools prefill on the prefill pool only (without spillover, which the policy may
    // otherwise choose when waiting would miss the TTFT SLO).
    const policy = { predictive: { allowSpillover: false } };
    const runs = await compare({ ...SMALL, layout, gpus: 4, policy }, "optimized");
    deepEqual(Object.keys(runs.optimized.ttftByPool).sort(), [...pools].sort(), layout);
  }
});

Deno.test("config errors name the field and the value", () => {
  const bad: [unknown, RegExp][] = [
    [
      { prefillGpus: [0, 1], decodeGpus: [1, 2] },
      /'prefillGpus' and 'decodeGpus' overlap: current value is \[0,1,1,2\]/,
    ],
    [{ decodeGpus: [3, 3] }, /'decodeGpus' lists a GPU twice/],
    [{ model: "gpt-9" }, /unknown model 'gpt-9'; known: llama-3-8b/],
    [{ gpu: "tpu" }, /unknown GPU 'tpu'/],
    [
      { model: "llama-3-70b", gpu: "a100" },
      /does not fit on 1 x A100-80GB .* raise 'tensorParallel'/,
    ],
    [{ layout: "dual", prefillGpus: 0 }, /layout 'dual' needs at least one prefill GPU/],
    [{ decodeGpus: 0 }, /no GPU can decode/],
    [{ engine: { maxNumSeqs: 0 } }, /'engine.maxNumSeqs' too small.*current value is 0/],
    [{ slo: { ttftMs: "fast" } }, /'slo.ttftMs' .*current value is "fast"/],
    [{ layout: "mesh" }, /'layout' .*current value is "mesh"/],
    [{ bogus: true }, /unknown field 'bogus'/],
  ];
  for (const [layer, message] of bad) {
    throws(
      () => buildFleet(resolveSimConfig(layer)),
      (e: unknown) => e instanceof SimConfigError && message.test(e.message),
      JSON.stringify(layer),
    );
  }
});
