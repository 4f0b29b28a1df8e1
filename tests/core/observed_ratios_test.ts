import { equal } from "node:assert/strict";
import { ObservedRatios, ObservedTimes } from "../../src/core/observed_ratios.ts";
import type { ScoringCore } from "../../src/core/scoring_core.ts";
import { Cfg } from "../../src/core/abi.ts";
import { encodeConfig, resolvePolicyConfig } from "../../src/core/config.ts";

/** A default policy config as the core's config region holds it. */
function policyConfig(): Float64Array {
  const out = new Float64Array(Cfg.COUNT);
  encodeConfig(resolvePolicyConfig({}), out);
  return out;
}

/** The part of a core ObservedTimes reads and writes; `tpot()` is the TPOT ratio it wrote. */
function fakeCore(msPerToken: number, baseMs: number, endpoints = 1) {
  const zeros = () => new Array(endpoints).fill(0);
  const state = {
    decodeBaseMs: new Array(endpoints).fill(baseMs),
    decodeMsPerBlock: zeros(),
    decodeMsPerSeq: zeros(),
    activeKv: zeros(),
    activeSeqs: zeros(),
    kvCapacity: new Array(endpoints).fill(1000),
    slabMsPerBlock: zeros(),
    config: policyConfig(),
    prefillMsPerToken: new Array(endpoints).fill(msPerToken),
    tpotObs: zeros(),
    tpotObsAt: zeros(),
    ttftObs: zeros(),
    ttftObsAt: zeros(),
  };
  const core = { state } as unknown as ScoringCore;
  return { core, state, tpot: (e = 0) => state.tpotObs[e] };
}

Deno.test("observed ratios: a ratio of moving averages, 0 until the first usable pair anywhere", () => {
  const r = new ObservedRatios(2, 0.5);
  equal(r.ratio(0), 0);
  // The model is the prior: the first pair moves ratio 1 by alpha, (0.5 * 30 + 0.5 * 10) / 10.
  equal(r.add(0, 30, 10), 2, "the first pair starts from the model");
  // (0.5 * 10 + 0.5 * 20) / (0.5 * 10 + 0.5 * 10) = 1.5: one fast request halves the excess.
  equal(r.add(0, 10, 10), 1.5);
  equal(r.ratio(1), 1.5, "an endpoint with no pair of its own has the pooled ratio");
  equal(new ObservedRatios(2, 0.5).ratio(1), 0, "no ratio before any pair");
});

Deno.test("observed ratios: a tiny prediction cannot swing the ratio", () => {
  const r = new ObservedRatios(1, 0.2);
  r.add(0, 100, 100);
  // A mean of ratios would jump by 0.2 * 300 = 60; the ratio of means moves to ~1.24.
  const after = r.add(0, 30, 0.1);
  equal(after > 1 && after < 1.3, true, `ratio ${after}`);
});

Deno.test("observed ratios: unusable pairs change nothing; the ratio stays in [1/1000, 1000]", () => {
  const r = new ObservedRatios(1, 0.2);
  equal(r.add(0, NaN, 10), 0);
  equal(r.add(0, 10, 0), 0);
  equal(r.add(0, Infinity, 10), 0);
  equal(r.add(0, 1e9, 1), 1000);
  const low = new ObservedRatios(1, 0.2);
  let ratio = 0;
  for (let i = 0; i < 60; i++) ratio = low.add(0, 0, 10);
  equal(ratio, 1 / 1000);
});

Deno.test("observed ratios: one outlying first stream does not set the ratio alone", () => {
  // Live, a cold engine's first streams measured 7x their model; started at the sample, the
  // ratio was 7 until several more came, and the policy shunned that engine.
  const r = new ObservedRatios(1, 0.2);
  equal(r.add(0, 70, 10), 2.2);
  let ratio = 0;
  for (let i = 0; i < 20; i++) ratio = r.add(0, 10, 10);
  equal(ratio < 1.03, true, `back near the model after 20 normal streams: ${ratio}`);
});

Deno.test("observed TPOT: prefills computed beside a stream are the model's, not a slow GPU", () => {
  // A 10 ms step, 0.1 ms per prompt token: 1,000 prompt tokens prefilled while a 101-token
  // stream decoded stall it by 100 ms, 1 ms per token, so 11 ms per token is what the model
  // predicts for that life.
  const { core, tpot } = fakeCore(0.1, 10);
  const t = new ObservedTimes(core, 1, 0.5);
  const mark = t.decodeMark(0);
  t.prefillCompleted(0, 1000);
  t.decodeFinished(0, 11, 10, mark, 101, 0);
  equal(tpot(), 1);
  // Against the bare step the same stream reads as a GPU 10% slower than modelled (1.1,
  // moved halfway from the prior 1 at alpha 0.5).
  const bare = fakeCore(0.1, 10);
  new ObservedTimes(bare.core, 1, 0.5).tpot(0, 11, 10, 0);
  equal(bare.tpot(), 1.05);
  // Prefills done before the first token are not the stream's.
  const { core: c2, tpot: tpot2 } = fakeCore(0.1, 10);
  const t2 = new ObservedTimes(c2, 1, 0.5);
  t2.prefillCompleted(0, 5000);
  t2.decodeFinished(0, 10, 10, t2.decodeMark(0), 101, 0);
  equal(tpot2(), 1);
});

Deno.test("observed ratios: an endpoint's first samples are shrunk toward the fleet's ratio", () => {
  // alpha 0.5: the pool counts as 1 / 0.5 = 2 samples. Endpoint 0 reads 3x its model, then
  // endpoint 1 reads 1x: alone, 0 would be at 2 and 1 at 1.
  const r = new ObservedRatios(2, 0.5);
  equal(r.add(0, 30, 10), 2, "alone in the pool, its own ratio");
  // Pool: measured 0.5 * 10 + 0.5 * 20 = 15 over predicted 10: 1.5. Endpoint 1's own ratio 1,
  // one sample: 1 + (1.5 - 1) * 2 / 3.
  equal(r.add(1, 10, 10), 1 + 0.5 * 2 / 3);
  equal(r.ratio(0), 2 + (1.5 - 2) * 2 / 3, "endpoint 0 moves toward the pool too");
  // With many samples of its own an endpoint keeps its own ratio (its model error is real).
  for (let i = 0; i < 200; i++) r.add(0, 30, 10);
  equal(Math.abs(r.ratio(0) - 3) < 0.03, true, `ratio ${r.ratio(0)}`);
  equal(r.ratio(1) > 1 && r.ratio(1) < 3, true);
});

Deno.test("observed times: a pair on one endpoint rewrites every endpoint's ratio", () => {
  const { core, state } = fakeCore(0.1, 10, 3);
  const t = new ObservedTimes(core, 3, 0.5);
  t.tpot(0, 30, 10, 100);
  equal(state.tpotObs[2], 2, "an endpoint with no pair of its own takes the fleet's ratio");
  t.tpot(1, 10, 10, 200);
  equal(state.tpotObs[0], 2 + (1.5 - 2) * 2 / 3, "endpoint 0 moved with the pool");
  equal(state.tpotObs[2], 1.5);
  equal(state.tpotObsAt[0], 200, "the fleet's ratio is as fresh as its last pair");
  equal(t.ownFresh("tpot", 0, 1100), true);
  equal(t.ownFresh("tpot", 2, 200), false, "no pair of its own");
  // Past the telemetry age (1,000 ms by default) an endpoint's own pairs stop counting.
  t.tpot(1, 10, 10, 1200);
  equal(t.ownFresh("tpot", 0, 1200), false);
  equal(state.tpotObs[0], state.tpotObs[2], "endpoint 0's stale pairs: the fleet's ratio");
  equal(state.ttftObs[0], 0, "TTFT and TPOT are pooled apart");
  t.ttft(2, 20, 10, 1300);
  equal(state.ttftObs[0], 1.5);
});

Deno.test("observed ratios: a truly slower engine is still told apart, partly", () => {
  // alpha 0.2: own samples stop counting past (2 - 0.2) / 0.2 = 9, the pool weighs 5. One
  // engine 2x its model, one at it, equal traffic: the pool settles near 1.5, so the ratios near
  // 2 - 0.5 x 5 / 14 and 1 + 0.5 x 5 / 14.
  const r = new ObservedRatios(2, 0.2);
  for (let i = 0; i < 200; i++) {
    r.add(0, 20, 10);
    r.add(1, 10, 10);
  }
  const slow = r.ratio(0), fast = r.ratio(1);
  equal(Math.abs(slow - (2 - 0.5 * 5 / 14)) < 0.02, true, `slow ${slow}`);
  equal(Math.abs(fast - (1 + 0.5 * 5 / 14)) < 0.02, true, `fast ${fast}`);
});

Deno.test("observed ratios: equal measured steps on unequal batches still read the fuller engine as slower", () => {
  // Live (500 streams, two emulators): both measured ~80 ms per token with 266 and 234
  // sequences, where the model has 62 and 56 ms. A ratio that is all the engine's own scales
  // both predictions to the same 80 ms, so nothing told the router the fuller engine was fuller.
  const r = new ObservedRatios(2, 0.2);
  for (let i = 0; i < 100; i++) {
    r.add(0, 80, 62);
    r.add(1, 80, 56);
  }
  const fuller = 62 * r.ratio(0), emptier = 56 * r.ratio(1);
  equal(fuller > emptier + 2, true, `predicted steps ${fuller} and ${emptier}`);
  equal(
    Math.abs(fuller - 80) < 3 && Math.abs(emptier - 80) < 3,
    true,
    "both near what they measure",
  );
});

Deno.test("observed times: an unusable pair neither moves a ratio nor makes it fresh", () => {
  const { core, state } = fakeCore(0.1, 10, 2);
  const t = new ObservedTimes(core, 2, 0.5);
  t.tpot(0, 30, 10, 100);
  const before = state.tpotObs[0];
  t.tpot(0, NaN, 10, 1500);
  t.tpot(0, 30, 0, 1500);
  equal(state.tpotObs[0], before);
  equal(state.tpotObsAt[0], 100, "still stamped at the last usable pair");
  equal(t.ownFresh("tpot", 0, 1500), false, "its own pairs are as old as the last usable one");
});
