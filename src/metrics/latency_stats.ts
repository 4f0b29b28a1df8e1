/**
 * A latency distribution in bounded memory: an HdrHistogram of microseconds (3 significant
 * digits, auto-resizing), so percentiles of a million requests cost kilobytes, not megabytes.
 *
 * Recording is the hot path (several values per simulated request), and the library's
 * `recordValue` costs ~130 ns (log2, pow, range checks); its mean and deviation walk every
 * bucket three times through an allocating iterator (~20 ms a histogram, per run). So this
 * class keeps the count per HdrHistogram bucket itself, at the library's own index (integer
 * ops: for integers below 2^32, floor(log2(v)) is 31 - clz32(v) exactly; above, the library's
 * own float formula), computes the mean and deviation from those counts with the library's
 * arithmetic in the library's order, and for percentiles hands the counts to a library
 * histogram (each bucket's count at its lowest value). The summary is the one recording every
 * value into the library gives, to the bit (tests/metrics/latency_stats_test.ts).
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
const HALF_COUNT = 1 << HALF_MAGNITUDE;

/** The library's bucket index of `us` (an integer >= 1). */
function bucketIndexOf(us: number): number {
  if (us < 2 ** 32) {
    const bucket = Math.max(31 - Math.clz32(us) - HALF_MAGNITUDE, 0);
    return bucket * HALF_COUNT + (us >>> bucket);
  }
  // The library's own formula (getBucketIndex, getSubBucketIndex, computeCountsArrayIndex).
  const bucket = Math.max(Math.floor(Math.log2(us)) - HALF_MAGNITUDE, 0);
  return bucket * HALF_COUNT + Math.floor(us / Math.pow(2, bucket));
}

/** The bucket (power-of-two level) of an index. */
const levelOf = (
  index: number,
) => (index < 2 * HALF_COUNT ? 0 : Math.floor(index / HALF_COUNT) - 1);

export class LatencyStats {
  /** Values recorded per bucket index (grown as needed). */
  #counts = new Float64Array(4096);
  #total = 0;
  #max = 0;
  /** A library histogram holding the counts, for percentiles; null when stale. */
  #library: ReturnType<typeof hdr.build> | null = null;

  record(ms: number): void {
    const us = Math.max(1, Math.round(ms * 1000));
    const index = bucketIndexOf(us);
    if (index >= this.#counts.length) this.#grow(index);
    this.#counts[index]++;
    this.#total++;
    if (us > this.#max) this.#max = us;
    this.#library = null;
  }

  get count(): number {
    return this.#total;
  }

  percentileMs(p: number): number {
    return this.#total === 0 ? 0 : this.#percentiles().getValueAtPercentile(p) / 1000;
  }

  summary(): LatencySummary {
    if (this.#total === 0) {
      return { count: 0, mean: 0, std: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
    }
    const h = this.#percentiles();
    const ms = (us: number) => round3(us / 1000);
    const mean = this.#mean();
    return {
      count: this.#total,
      mean: ms(mean),
      std: ms(this.#deviation(mean)),
      p50: ms(h.getValueAtPercentile(50)),
      p90: ms(h.getValueAtPercentile(90)),
      p95: ms(h.getValueAtPercentile(95)),
      p99: ms(h.getValueAtPercentile(99)),
      max: ms(this.#max),
    };
  }

  /** The library's `mean`: each bucket's median value times its count, summed upwards. */
  #mean(): number {
    const counts = this.#counts;
    let total = 0;
    for (let index = 0; index < counts.length; index++) {
      const count = counts[index];
      if (count !== 0) total += medianOf(index) * count;
    }
    return total / this.#total;
  }

  /** The library's `stdDeviation`, from the same medians. */
  #deviation(mean: number): number {
    const counts = this.#counts;
    let total = 0.0;
    for (let index = 0; index < counts.length; index++) {
      const count = counts[index];
      if (count === 0) continue;
      const deviation = medianOf(index) - mean;
      total += deviation * deviation * count;
    }
    return Math.sqrt(total / this.#total);
  }

  #percentiles(): ReturnType<typeof hdr.build> {
    if (this.#library) return this.#library;
    const h = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 2,
      numberOfSignificantValueDigits: 3,
      autoResize: true,
      useWebAssembly: false,
    });
    const layout = h as unknown as { subBucketHalfCountMagnitude: number; unitMagnitude: number };
    if (layout.subBucketHalfCountMagnitude !== HALF_MAGNITUDE || layout.unitMagnitude !== 0) {
      throw new Error("hdr-histogram-js changed its bucket layout; LatencyStats needs updating");
    }
    const counts = this.#counts;
    for (let index = 0; index < counts.length; index++) {
      if (counts[index] !== 0) h.recordValueWithCount(lowestOf(index), counts[index]);
    }
    this.#library = h;
    return h;
  }

  #grow(index: number): void {
    let size = this.#counts.length;
    while (size <= index) size *= 2;
    const counts = new Float64Array(size);
    counts.set(this.#counts);
    this.#counts = counts;
  }
}

/** The lowest value of a bucket index (the library's valueFromIndex). */
function lowestOf(index: number): number {
  const level = levelOf(index);
  return (index - level * HALF_COUNT) * Math.pow(2, level);
}

/** The library's medianEquivalentValue of a bucket: lowest + floor(range / 2). */
function medianOf(index: number): number {
  return lowestOf(index) + Math.floor(Math.pow(2, levelOf(index)) / 2);
}
