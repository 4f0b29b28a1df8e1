/**
 * A seeded benchmark fleet: half prefill, half decode, two hosts with two NUMA nodes each,
 * varied loads and some cached prefixes, so every branch of the decision runs.
 */
import type { ScoringCore } from "../src/core/scoring_core.ts";

/** mulberry32: a tiny seeded PRNG, so every run benchmarks the same fleet. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function loadBenchFleet(core: ScoringCore, n: number, seed = 42): void {
  const random = seededRandom(seed);
  core.setEndpointCount(n);
  for (let e = 0; e < n; e++) {
    core.setEndpoint(e, {
      role: e % 2 === 0 ? "prefill" : "decode",
      hostId: e % 4 < 2 ? 0 : 1,
      numaNode: e % 2,
      nvlinkDomain: Math.floor(e / 8) % 8,
      prefillTokensPerMs: 20 + random() * 5,
      decodeBaseMs: 7 + random(),
      decodeMsPerKvBlock: 0.0004,
      kvCapacityBlocks: 30000,
      slabMsPerBlock: 0.002,
    });
    core.setLoad(e, {
      queuedPrefillTokens: Math.floor(random() * 20000),
      activeSeqs: Math.floor(random() * 64),
      activeKvBlocks: Math.floor(random() * 25000),
      hostKvFreeBlocks: 2000,
    });
    if (e % 3 === 0) core.addPrefixBlocks(e, [1, 2, 3, 4]);
  }
}

export const BENCH_REQUEST = {
  promptTokens: 3000,
  outputTokens: 200,
  prefixBlocks: [1, 2, 3, 4, 5, 6],
};
