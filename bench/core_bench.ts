/**
 * Scoring-core microbenchmarks, grouped by endpoint count. In each group the TS reference is
 * the baseline; `wasm (wrapper)` is the full ScoringCore.route (validation, request write,
 * decision, result object); `wasm (raw ABI)` is the decision plus the call boundary only, as
 * an embedder that writes the request in place would pay; `sampled k=…` is the raw ABI with
 * candidate sampling (only where a pool holds more than k endpoints, else it is exhaustive);
 * `cold prompt` is the raw ABI for the same request without its cached prefix blocks.
 * Group "typed API vs raw ABI N=64": the embedding API (`createCore`, as the npm package, the
 * simulator and the router build their cores) against the bare exported call; bench/api_cost.ts
 * measures the same calls paired, round by round. Reported as time per decision.
 * `deno task bench:record` writes the JSON to artifacts/bench/.
 */
import { createReferenceCore } from "../src/core/reference/mod.ts";
import { createCore, createWasmCore, instantiateCore } from "../src/wasm/wasm_core.ts";
import { resolveCapacity } from "../src/core/capacity.ts";
import type { PolicyConfigInput } from "../src/core/config.ts";
import { Req } from "../src/core/abi.ts";
import { newDecision } from "../src/core/request.ts";
import { ScoringCore } from "../src/core/scoring_core.ts";
import { BENCH_REQUEST, loadBenchFleet } from "./_fleet.ts";

const CONFIG = { disaggregation: "conditional" as const };

/**
 * The exported `route` of a core holding the bench fleet, with the request written once
 * (`cold`: without its prefix blocks, so no endpoint has a prefix hit).
 */
function rawRoute(
  n: number,
  config: PolicyConfigInput,
  cold = false,
): (now: number, draw: number) => number {
  const raw = instantiateCore(resolveCapacity({}));
  // The wrapper's writers fill the fleet; its decider is never called.
  const core = new ScoringCore(raw.state, {
    kind: "wasm",
    route: () => 0,
    planMigrations: () => 0,
  }, config);
  loadBenchFleet(core, n);
  raw.state.request[Req.PROMPT_TOKENS] = BENCH_REQUEST.promptTokens;
  raw.state.request[Req.OUTPUT_TOKENS] = BENCH_REQUEST.outputTokens;
  raw.state.request[Req.BLOCK_COUNT] = cold ? 0 : BENCH_REQUEST.prefixBlocks.length;
  raw.state.requestBlocks.set(BENCH_REQUEST.prefixBlocks);
  return raw.exports.route;
}

let draw = 0;
const nextDraw = () => draw = (draw + 0x9e3779b9) >>> 0;

for (const n of [16, 64, 256, 1024]) {
  const group = `route N=${n}`;
  const reference = createReferenceCore(CONFIG);
  const wasm = createWasmCore(CONFIG);
  loadBenchFleet(reference, n);
  loadBenchFleet(wasm, n);
  const route = rawRoute(n, CONFIG);

  Deno.bench({
    name: `reference N=${n}`,
    group,
    baseline: true,
    fn: () => {
      reference.route(BENCH_REQUEST, 0, nextDraw());
    },
  });
  Deno.bench({
    name: `wasm (wrapper) N=${n}`,
    group,
    fn: () => {
      wasm.route(BENCH_REQUEST, 0, nextDraw());
    },
  });
  Deno.bench({
    name: `wasm (raw ABI) N=${n}`,
    group,
    fn: () => {
      route(0, nextDraw());
    },
  });
  // The bench fleet is half prefill, half decode: each pool holds n / 2 endpoints.
  for (const k of [16, 64].filter((k) => n / 2 > k)) {
    const sampled = rawRoute(n, { ...CONFIG, candidateSample: k });
    Deno.bench({
      name: `wasm (raw ABI, sampled k=${k}) N=${n}`,
      group,
      fn: () => {
        sampled(0, nextDraw());
      },
    });
  }
  // A third of the fleet holds the bench prompt's prefix, and sampling keeps every hit: a
  // prompt without cached blocks shows the decision without prefix matching and hits.
  const cold = rawRoute(n, CONFIG, true);
  Deno.bench({
    name: `wasm (raw ABI, cold prompt) N=${n}`,
    group,
    fn: () => {
      cold(0, nextDraw());
    },
  });
  if (n / 2 > 16) {
    const coldSampled = rawRoute(n, { ...CONFIG, candidateSample: 16 }, true);
    Deno.bench({
      name: `wasm (raw ABI, sampled k=16, cold prompt) N=${n}`,
      group,
      fn: () => {
        coldSampled(0, nextDraw());
      },
    });
  }
}

{
  const group = "state update";
  const wasm = createWasmCore(CONFIG);
  loadBenchFleet(wasm, 64);
  const queued = wasm.state.queuedPrefill;
  let i = 0;
  Deno.bench({
    name: "setLoad (validated, 3 fields)",
    group,
    baseline: true,
    fn: () => {
      i = (i + 1) & 63;
      wasm.setLoad(i, { queuedPrefillTokens: i * 10, activeSeqs: i, activeKvBlocks: i * 100 });
    },
  });
  Deno.bench({
    name: "addLoad (dispatch accounting)",
    group,
    fn: () => {
      i = (i + 1) & 63;
      wasm.addLoad(i, 1, 0, 0);
    },
  });
  Deno.bench({
    name: "raw view store (unvalidated)",
    group,
    fn: () => {
      i = (i + 1) & 63;
      queued[i] = i * 10;
    },
  });
}

{
  // The embedding API (createCore, as the npm package, the simulator and the router use it)
  // against the bare exported call on the same fleet, at 64 endpoints.
  const group = "typed API vs raw ABI N=64";
  const n = 64;
  const route = rawRoute(n, CONFIG);
  const raw = instantiateCore(resolveCapacity({}));
  const request = raw.state.request, blocks = raw.state.requestBlocks;
  const core = createCore({ policy: CONFIG, endpoints: [] });
  loadBenchFleet(core, n);
  loadBenchFleet(
    new ScoringCore(raw.state, { kind: "wasm", route: () => 0, planMigrations: () => 0 }, CONFIG),
    n,
  );
  const into = newDecision();
  Deno.bench({
    name: "raw ABI route (request written once)",
    group,
    baseline: true,
    fn: () => {
      route(0, nextDraw());
    },
  });
  Deno.bench({
    name: "raw ABI route, request written per call",
    group,
    fn: () => {
      request[Req.PROMPT_TOKENS] = BENCH_REQUEST.promptTokens;
      request[Req.OUTPUT_TOKENS] = BENCH_REQUEST.outputTokens;
      request[Req.BLOCK_COUNT] = BENCH_REQUEST.prefixBlocks.length;
      blocks.set(BENCH_REQUEST.prefixBlocks);
      raw.exports.route(0, nextDraw());
    },
  });
  Deno.bench({
    name: "typed route(request, now, draw, into)",
    group,
    fn: () => {
      core.route(BENCH_REQUEST, 0, nextDraw(), into);
    },
  });
  Deno.bench({
    name: "typed route(request, now, draw): a new decision",
    group,
    fn: () => {
      core.route(BENCH_REQUEST, 0, nextDraw());
    },
  });
}
