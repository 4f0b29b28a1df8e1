/**
 * Distributions small enough for a page: a CDF drawn through quantile samples of the sorted
 * values (evenly spaced in probability, denser in the tail) instead of every request, and exact
 * nearest-rank percentiles for the markers.
 */

/** A growable Float64Array: a million latencies without a million boxed numbers. */
export class Samples {
  #data = new Float64Array(1024);
  #size = 0;

  push(x: number): void {
    if (this.#size === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.#size++] = x;
  }

  get size(): number {
    return this.#size;
  }

  /** The values in ascending order (a copy). */
  sorted(): Float64Array {
    return this.#data.slice(0, this.#size).sort();
  }
}

/** Nearest-rank percentile (p in 0..100) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(p / 100 * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** One point of an empirical CDF: fraction `p` of the values are <= `value`. */
export interface CdfPoint {
  readonly value: number;
  readonly p: number;
}

/**
 * The empirical CDF of ascending `sorted` through at most about `points` + `tailPoints` points:
 * every value when there are few; otherwise values at evenly spaced probabilities plus
 * `tailPoints` more between p99 and the maximum, always keeping the minimum and maximum.
 */
export function cdfSample(sorted: Float64Array, points = 200, tailPoints = 50): CdfPoint[] {
  const n = sorted.length;
  if (n === 0) return [];
  const indexes = new Set<number>();
  if (n <= points + tailPoints) {
    for (let i = 0; i < n; i++) indexes.add(i);
  } else {
    for (let k = 0; k < points; k++) indexes.add(Math.round(k / (points - 1) * (n - 1)));
    const tailStart = Math.floor(0.99 * (n - 1));
    for (let k = 0; k < tailPoints; k++) {
      indexes.add(Math.round(tailStart + k / (tailPoints - 1) * (n - 1 - tailStart)));
    }
  }
  const out: CdfPoint[] = [];
  for (const i of [...indexes].sort((a, b) => a - b)) {
    // Of equal values keep the last: the CDF at a value counts all of them.
    if (i + 1 < n && sorted[i + 1] === sorted[i] && indexes.has(i + 1)) continue;
    out.push({ value: sorted[i], p: (i + 1) / n });
  }
  return out;
}
