/**
 * A latency distribution in bounded memory: an HdrHistogram of microseconds (3 significant
 * digits, auto-resizing), so percentiles of a million requests cost kilobytes, not megabytes.
 *
 * Recording is the hot path (several values per simulated request), and the library's
 * `recordValue` costs ~130 ns (log2, pow, range checks). So values first go into a count per
 * HdrHistogram bucket here, at the library's own index (computed with integer ops: for
 * integers below 2^32, floor(log2(v)) is 31 - clz32(v) exactly), and are handed to the library
 * in one pass before anything is read: each bucket's count at the bucket's lowest value, and
 * the largest value itself, so the count, max, mean, deviation and percentiles it reports are
 * the ones recording every value would give (tests/metrics/latency_stats_test.ts).
 */
import * as hdr from "hdr-histogram-js";

export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly std: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Rounds to 3 decimals so summaries read well and compare byte for byte. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Sub-bucket half count magnitude for 3 significant digits and unit 1 (hdr's layout). */
const HALF_MAGNITUDE = 10;

export class LatencyStats {
  readonly #h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });
  /** Counts per hdr bucket index not yet handed to `#h`. */
  #pending = new Float64Array(4096);
  #pendingMax = 0;
  #pendingCount = 0;

  constructor() {
    const layout = this.#h as unknown as {
      subBucketHalfCountMagnitude: number;
      unitMagnitude: number;
    };
    if (layout.subBucketHalfCountMagnitude !== HALF_MAGNITUDE || layout.unitMagnitude !== 0) {
      throw new Error("hdr-histogram-js changed its bucket layout; LatencyStats needs updating");
    }
  }

  record(ms: number): void {
    const us = Math.max(1, Math.round(ms * 1000));
    if (!(us < 2 ** 32)) {
      this.#h.recordValue(us); // beyond 71 minutes: the library's own path
      return;
    }
    const bucket = Math.max(31 - Math.clz32(us) - HALF_MAGNITUDE, 0);
    const index = bucket * 1024 + (us >>> bucket);
    if (index >= this.#pending.length) this.#grow(index);
    this.#pending[index]++;
    this.#pendingCount++;
    if (us > this.#pendingMax) this.#pendingMax = us;
  }

  get count(): number {
    return this.#flushed().totalCount;
  }

  percentileMs(p: number): number {
    const h = this.#flushed();
    return h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / 1000;
  }

  summary(): LatencySummary {
    const h = this.#flushed();
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

  /** The library's histogram with everything recorded so far. */
  #flushed(): ReturnType<typeof hdr.build> {
    const h = this.#h;
    if (this.#pendingCount === 0) return h;
    const pending = this.#pending;
    const max = this.#pendingMax;
    const bucketOfMax = Math.max(31 - Math.clz32(max) - HALF_MAGNITUDE, 0);
    const indexOfMax = bucketOfMax * 1024 + (max >>> bucketOfMax);
    for (let index = 0; index < pending.length; index++) {
      let count = pending[index];
      if (count === 0) continue;
      pending[index] = 0;
      if (index === indexOfMax) {
        h.recordValue(max); // the exact largest value, which the library reports as max
        count--;
      }
      if (count === 0) continue;
      const bucket = index < 2048 ? 0 : (index >>> 10) - 1;
      const lowest = (index - bucket * 1024) * 2 ** bucket;
      h.recordValueWithCount(lowest, count);
    }
    this.#pendingCount = 0;
    this.#pendingMax = 0;
    return h;
  }

  #grow(index: number): void {
    let size = this.#pending.length;
    while (size <= index) size *= 2;
    const pending = new Float64Array(size);
    pending.set(this.#pending);
    this.#pending = pending;
  }
}
