/**
 * A seeded PRNG (sfc32, 128-bit state) and the distributions the workloads draw from.
 * Every random decision in the simulator flows from an explicitly seeded `Rng`; there is no
 * global generator. `fork` derives an independent stream, so the workload and the router's
 * tie-break draws never consume each other's numbers.
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    // splitmix32 expands the seed into the four state words.
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform integer in [0, 2^32). */
  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** An independent stream labelled `label` (stable: same seed and label, same stream). */
  fork(label: number): Rng {
    return new Rng((this.u32() ^ Math.imul(label + 1, 0x9e3779b9)) >>> 0);
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Standard normal (Box-Muller; one draw per call, for reproducibility over speed). */
  normal(): number {
    const u = 1 - this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given median and log-space sigma. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Zipf-like index in [0, n) with exponent `s` (rank 0 most popular). */
  zipf(n: number, s: number): number {
    // Inverse CDF over precomputed-free harmonic weights is O(n); n is small (prefix groups).
    let total = 0;
    for (let k = 1; k <= n; k++) total += 1 / k ** s;
    let x = this.float() * total;
    for (let k = 1; k <= n; k++) {
      x -= 1 / k ** s;
      if (x < 0) return k - 1;
    }
    return n - 1;
  }
}
