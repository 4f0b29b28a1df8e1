/**
 * The policy earns its name (issue 3, item 5): on the default scenario, on a busy stretch of
 * the Azure conv trace at the load the documented full run uses (6x), and on the Mooncake
 * conversation trace at its own rate, the predictive policy beats round robin on TTFT p95 and
 * on SLO goodput, keeps TPOT p99 within the TPOT SLO, and pays at most 15% on TPOT p50 (it
 * does pay: more local prefills, and more sequences decoding at once; bench/LEAGUE.md).
 * Slices are committed under tests/fixtures/data; full-trace numbers are in README "Results".
 */
import { ok } from "node:assert/strict";
import type { RunSummary } from "../../src/metrics/run_metrics.ts";
import { compare, trace } from "./_run.ts";

function earnsItsName(runs: Record<string, RunSummary>, what: string): void {
  const { baseline: rr, optimized: opt } = runs;
  const detail =
    `${what}: TTFT p95 ${rr.ttftMs.p95} -> ${opt.ttftMs.p95} ms, goodput ${rr.goodput.fraction} -> ${opt.goodput.fraction}, TPOT p50 ${rr.tpotMs.p50} -> ${opt.tpotMs.p50} ms, p99 ${rr.tpotMs.p99} -> ${opt.tpotMs.p99} ms`;
  ok(opt.ttftMs.p95 < rr.ttftMs.p95, `TTFT p95 not better. ${detail}`);
  ok(opt.goodput.fraction > rr.goodput.fraction, `goodput not better. ${detail}`);
  ok(opt.tpotMs.p50 <= rr.tpotMs.p50 * 1.15, `TPOT p50 worse by more than 15%. ${detail}`);
  ok(opt.tpotMs.p99 <= opt.goodput.sloTpotMs, `TPOT p99 past the TPOT SLO. ${detail}`);
  console.log(detail);
}

Deno.test("default scenario: predictive beats round robin", async () => {
  earnsItsName(await compare({}), "default");
});

Deno.test("Azure conv, busiest 10 minutes at 6x: predictive beats round robin", async () => {
  earnsItsName(
    await compare({
      workload: trace("azure", "tests/fixtures/data/azure2023_conv_min20to30.csv", {
        rateScale: 6,
      }),
    }),
    "azure conv",
  );
});

Deno.test("Mooncake conversation, first 2,500 requests at 1x on 4+4 GPUs: predictive beats round robin", async () => {
  earnsItsName(
    await compare({
      prefillGpus: 4,
      decodeGpus: 4,
      workload: trace("mooncake", "tests/fixtures/data/mooncake_conversation_head2500.jsonl"),
    }),
    "mooncake conversation",
  );
});

Deno.test("a shared pool at saturation (2 GPUs, chat at 16 req/s, the live league's load): predictive wins goodput and TTFT p95 (medians of 5 seeds)", async () => {
  // Each GPU prefills for itself, so its decode steps carry other requests' prefill chunks. A
  // TPOT ratio against the bare step read those stalls as a slow GPU, largest where the batch
  // was smallest: the policy crowded one GPU and queued at the router (before, seed 2: goodput
  // 0.593 vs round robin's 0.590, TTFT p95 2,011 vs 497 ms; src/core/observed_ratios.ts).
  // Medians over seeds: one seed's TTFT p95 moves by +-25% with any change of the model (ABI 8,
  // seed 2: 534 -> 657 ms, while the median of seeds 1-5 went 534 -> 526).
  const rr: RunSummary[] = [], opt: RunSummary[] = [];
  for (let seed = 1; seed <= 5; seed++) {
    const runs = await compare({
      layout: "shared",
      gpus: 2,
      seed,
      workload: { kind: "preset", name: "chat", overrides: { requests: 400, ratePerSec: 16 } },
    });
    rr.push(runs.baseline);
    opt.push(runs.optimized);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const goodput = (runs: RunSummary[]) => median(runs.map((r) => r.goodput.fraction));
  const ttft95 = (runs: RunSummary[]) => median(runs.map((r) => r.ttftMs.p95));
  const detail = `medians: goodput ${goodput(rr)} -> ${goodput(opt)}, TTFT p95 ${ttft95(rr)} -> ${
    ttft95(opt)
  } ms`;
  ok(goodput(opt) > goodput(rr) + 0.05, `goodput not better. ${detail}`);
  // Medians: 526 ms against round robin's 639 at ABI 8, 481 since ABI 9 priced the prefill
  // stall at the mean batch (the GPU decoding fewer sequences no longer takes every long prompt).
  ok(ttft95(opt) < ttft95(rr), `TTFT p95 not better. ${detail}`);
  console.log(detail);
});
