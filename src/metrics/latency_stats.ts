/**
 * A latency distribution in bounded memory: an HdrHistogram of microseconds (3 significant
 * digits, auto-resizing), so percentiles of a million requests cost kilobytes, not megabytes.
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

export class LatencyStats {
  readonly #h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });

  record(ms: number): void {
    this.#h.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.#h.totalCount;
  }

  percentileMs(p: number): number {
    return this.#h.totalCount === 0 ? 0 : this.#h.getValueAtPercentile(p) / 1000;
  }

  summary(): LatencySummary {
    const h = this.#h;
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
}
