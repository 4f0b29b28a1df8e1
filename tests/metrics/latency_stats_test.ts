/**
 * LatencyStats buffers counts per HdrHistogram bucket and hands them to the library before a
 * read: what it reports must be exactly what recording every value into the library reports,
 * at bucket boundaries (powers of two and their neighbours), for huge values (past the
 * integer fast path) and across reads between recordings.
 */
import { deepEqual } from "node:assert/strict";
import fc from "fast-check";
import * as hdr from "hdr-histogram-js";
import { LatencyStats, round3 } from "../../src/metrics/latency_stats.ts";

function libraryHistogram() {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });
}

/** The summary as LatencyStats computed it before buffering: every value into the library. */
function direct(values: readonly number[]) {
  const h = libraryHistogram();
  for (const ms of values) h.recordValue(Math.max(1, Math.round(ms * 1000)));
  if (h.totalCount === 0) {
    return { count: 0, mean: 0, std: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  }
  const ms = (us: number) => round3(us / 1000);
  return {
    count: h.totalCount,
    mean: ms(h.mean),
    std: ms(h.stdDeviation),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
  };
}

const boundaries: number[] = [];
for (let k = 0; k <= 42; k++) for (const d of [-1, 0, 1]) boundaries.push((2 ** k + d) / 1000);

const latency = fc.oneof(
  fc.double({ min: 0, max: 1e5, noNaN: true }),
  fc.double({ min: 0, max: 1e10, noNaN: true }),
  fc.constantFrom(...boundaries),
);

Deno.test("buffered recording reports exactly what the library reports for every value", () => {
  fc.assert(
    fc.property(fc.array(latency, { maxLength: 300 }), fc.nat(300), (values, readAt) => {
      const stats = new LatencyStats();
      values.forEach((v, i) => {
        stats.record(v);
        if (i === readAt) deepEqual(stats.summary(), direct(values.slice(0, i + 1)));
      });
      deepEqual(stats.summary(), direct(values));
      deepEqual(stats.count, values.length);
    }),
    { numRuns: 150 },
  );
});

Deno.test("every power-of-two boundary up to 2^42 us lands in the library's bucket", () => {
  const stats = new LatencyStats();
  const h = libraryHistogram();
  for (const v of boundaries) {
    stats.record(v);
    h.recordValue(Math.max(1, Math.round(v * 1000)));
  }
  for (const p of [0, 1, 10, 50, 90, 99.9, 100]) {
    deepEqual(stats.percentileMs(p), h.getValueAtPercentile(p) / 1000, `p${p}`);
  }
  deepEqual(stats.summary(), direct(boundaries));
});
