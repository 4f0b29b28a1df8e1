/**
 * What the typed API costs over the raw ABI call, measured paired: ROUNDS rounds, each timing a
 * batch of raw `route` calls and a batch of typed `route` calls back to back (in alternating
 * order), so that load from other processes hits both alike; the result is the median of the
 * per-round ratios. `deno bench` (bench/core_bench.ts, group "typed API vs raw ABI N=64") runs
 * the same calls one after the other, which on a shared machine lets the load drift between them.
 *
 *   deno run -A bench/api_cost.ts [ROUNDS] [BATCH]
 *
 * Prints one JSON object (bench/RESULTS.md records it).
 */
import { Req } from "../src/core/abi.ts";
import { resolveCapacity } from "../src/core/capacity.ts";
import { newDecision } from "../src/core/request.ts";
import { ScoringCore } from "../src/core/scoring_core.ts";
import { createCore, instantiateCore } from "../src/wasm/wasm_core.ts";
import { BENCH_REQUEST, loadBenchFleet } from "./_fleet.ts";

const ROUNDS = Number(Deno.args[0] ?? 301);
const BATCH = Number(Deno.args[1] ?? 5000);
const N = 64;
const CONFIG = { disaggregation: "conditional" as const };

const raw = instantiateCore(resolveCapacity({}));
// The wrapper's writers fill the raw core's fleet; its decider is never called.
loadBenchFleet(
  new ScoringCore(raw.state, { kind: "wasm", route: () => 0, planMigrations: () => 0 }, CONFIG),
  N,
);
raw.state.request[Req.PROMPT_TOKENS] = BENCH_REQUEST.promptTokens;
raw.state.request[Req.OUTPUT_TOKENS] = BENCH_REQUEST.outputTokens;
raw.state.request[Req.BLOCK_COUNT] = BENCH_REQUEST.prefixBlocks.length;
raw.state.requestBlocks.set(BENCH_REQUEST.prefixBlocks);
const core = createCore({ policy: CONFIG, endpoints: [] });
loadBenchFleet(core, N);
const into = newDecision();

let draw = 0;
let sink = 0;
const variants = {
  raw: () => {
    for (let i = 0; i < BATCH; i++) {
      draw = (draw + 0x9e3779b9) >>> 0;
      sink += raw.exports.route(0, draw);
    }
  },
  typedInto: () => {
    for (let i = 0; i < BATCH; i++) {
      draw = (draw + 0x9e3779b9) >>> 0;
      sink += core.route(BENCH_REQUEST, 0, draw, into).decode;
    }
  },
  typedNew: () => {
    for (let i = 0; i < BATCH; i++) {
      draw = (draw + 0x9e3779b9) >>> 0;
      sink += core.route(BENCH_REQUEST, 0, draw).decode;
    }
  },
};
type Variant = keyof typeof variants;
const names = Object.keys(variants) as Variant[];

function time(name: Variant): number {
  const t0 = performance.now();
  variants[name]();
  return (performance.now() - t0) * 1e6 / BATCH; // ns per decision
}

for (let i = 0; i < 20; i++) for (const name of names) time(name); // warm up

const samples: Record<Variant, number[]> = { raw: [], typedInto: [], typedNew: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? names : [...names].reverse();
  for (const name of order) samples[name].push(time(name));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const quartiles = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor(s.length / 4)], s[Math.floor((3 * s.length) / 4)]];
};
const ratios = (name: Variant) => samples[name].map((t, i) => t / samples.raw[i]);
const summary = (name: Variant) => ({
  nsPerDecision: median(samples[name]),
  ratioToRaw: median(ratios(name)),
  ratioIqr: quartiles(ratios(name)),
});
console.log(JSON.stringify({
  endpoints: N,
  rounds: ROUNDS,
  batch: BATCH,
  raw: { nsPerDecision: median(samples.raw) },
  typedInto: summary("typedInto"),
  typedNew: summary("typedNew"),
  sink: sink > 0,
}));
