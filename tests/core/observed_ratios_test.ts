import { equal } from "node:assert/strict";
import { ObservedRatios } from "../../src/core/observed_ratios.ts";

Deno.test("observed ratios: a ratio of moving averages, 0 until the first usable pair", () => {
  const r = new ObservedRatios(2, 0.5);
  equal(r.ratio(0), 0);
  equal(r.add(0, 30, 10), 3, "the first pair starts both averages");
  // (0.5 * 10 + 0.5 * 30) / (0.5 * 10 + 0.5 * 10) = 2: one fast request halves the excess.
  equal(r.add(0, 10, 10), 2);
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
  equal(low.add(0, 0, 10), 1 / 1000);
});
