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

/** The part of a core ObservedTimes reads and writes. */
function fakeCore(msPerToken: number, baseMs: number) {
  const written: { tpotObservedRatio?: number }[] = [];
  const core = {
    state: {
      decodeBaseMs: [baseMs],
      decodeMsPerBlock: [0],
      decodeMsPerSeq: [0],
      activeKv: [0],
      activeSeqs: [0],
      kvCapacity: [1000],
      slabMsPerBlock: [0],
      config: policyConfig(),
      prefillMsPerToken: [msPerToken],
    },
    setLoad: (_e: number, load: { tpotObservedRatio?: number }) => written.push(load),
  } as unknown as ScoringCore;
  return { core, written };
}

Deno.test("observed ratios: a ratio of moving averages, 0 until the first usable pair", () => {
  const r = new ObservedRatios(2, 0.5);
  equal(r.ratio(0), 0);
  // The model is the prior: the first pair moves ratio 1 by alpha, (0.5 * 30 + 0.5 * 10) / 10.
  equal(r.add(0, 30, 10), 2, "the first pair starts from the model");
  // (0.5 * 10 + 0.5 * 20) / (0.5 * 10 + 0.5 * 10) = 1.5: one fast request halves the excess.
  equal(r.add(0, 10, 10), 1.5);
  equal(r.ratio(1), 0, "endpoints are independent");
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
  const { core, written } = fakeCore(0.1, 10);
  const t = new ObservedTimes(core, 1, 0.5);
  const mark = t.decodeMark(0);
  t.prefillCompleted(0, 1000);
  t.decodeFinished(0, 11, 10, mark, 101, 0);
  equal(written.at(-1)?.tpotObservedRatio, 1);
  // Against the bare step the same stream reads as a GPU 10% slower than modelled (1.1,
  // moved halfway from the prior 1 at alpha 0.5).
  const bare = fakeCore(0.1, 10);
  new ObservedTimes(bare.core, 1, 0.5).tpot(0, 11, 10, 0);
  equal(bare.written.at(-1)?.tpotObservedRatio, 1.05);
  // Prefills done before the first token are not the stream's.
  const { core: c2, written: w2 } = fakeCore(0.1, 10);
  const t2 = new ObservedTimes(c2, 1, 0.5);
  t2.prefillCompleted(0, 5000);
  t2.decodeFinished(0, 10, 10, t2.decodeMark(0), 101, 0);
  equal(w2.at(-1)?.tpotObservedRatio, 1);
});
