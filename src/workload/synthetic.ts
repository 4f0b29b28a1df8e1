/**
 * Seeded synthetic workloads: arrival process (Poisson, bursty on/off, two waves), prompt
 * lengths (a short/long log-normal mix), heavy-tailed outputs (log-normal), and optional
 * shared prompt prefixes (system prompts / documents chosen Zipf-like) that give the policy
 * KV locality to exploit. Generated lazily: a million requests cost no memory up front.
 */
import { z } from "zod";
import type { RequestSource, SimRequest } from "./request.ts";
import { Rng } from "./rng.ts";

const lengthSchema = z.object({
  /** Median tokens (log-normal), clipped to [min, max]. */
  median: z.number().gt(0),
  /** Log-space standard deviation: 0 = constant, 1 = heavy tail. */
  sigma: z.number().min(0).max(4),
  min: z.number().int().min(1),
  max: z.number().int().min(1),
}).strict().refine((l) => l.min <= l.max, { message: "'min' must not exceed 'max'" });

export const syntheticWorkloadSchema = z.object({
  kind: z.literal("synthetic"),
  /** How many requests. */
  requests: z.number().int().min(1).max(100_000_000),
  /** Mean arrival rate, requests per second (over on-periods for bursty). */
  ratePerSec: z.number().gt(0),
  arrival: z.enum(["poisson", "bursty", "two-wave"]),
  /** bursty: rate multiplier during bursts; two-wave: rate multiplier inside each wave. */
  burstFactor: z.number().min(1),
  /** bursty: burst and quiet period lengths. */
  burstOnMs: z.number().gt(0),
  burstOffMs: z.number().min(0),
  /** two-wave: quiet gap between the waves (the first carries the long prompts). */
  waveGapMs: z.number().min(0),
  /** Fraction of requests with a long prompt. */
  longFraction: z.number().min(0).max(1),
  shortPrompt: lengthSchema,
  longPrompt: lengthSchema,
  output: lengthSchema,
  /** Shared prefixes: how many distinct ones (0 = none), their length, and popularity skew. */
  prefixGroups: z.number().int().min(0).max(1_000_000),
  prefixTokens: z.number().int().min(0),
  prefixZipf: z.number().min(0),
  /** Fraction of requests that start with a shared prefix. */
  prefixShare: z.number().min(0).max(1),
  /**
   * Distinct questions per prefix group (0 or absent: every request's own). With Q > 0 a
   * request with a shared prefix asks one of its group's Q questions (uniformly), and the rest
   * of its prompt is that question's blocks, so the whole prompt repeats, as in inference-perf's
   * `shared_prefix` data (`num_prompts_per_group`). Keep the prompt lengths constant (sigma 0)
   * for the repeats to be whole.
   */
  prefixQuestions: z.number().int().min(0).max(64).optional(),
}).strict();

export type SyntheticWorkload = z.infer<typeof syntheticWorkloadSchema>;

const BASE: Omit<SyntheticWorkload, "requests" | "ratePerSec"> = {
  kind: "synthetic",
  arrival: "poisson",
  burstFactor: 1,
  burstOnMs: 1000,
  burstOffMs: 0,
  waveGapMs: 0,
  longFraction: 0.1,
  shortPrompt: { median: 500, sigma: 0.8, min: 16, max: 4096 },
  longPrompt: { median: 6000, sigma: 0.4, min: 2048, max: 16000 },
  output: { median: 150, sigma: 1, min: 1, max: 2048 },
  prefixGroups: 0,
  prefixTokens: 0,
  prefixZipf: 1,
  prefixShare: 0,
};

/** Named synthetic workloads for `--workload`; each can be overridden in the config file. */
export const SYNTHETIC_PRESETS: Readonly<Record<string, SyntheticWorkload>> = {
  /** Chat traffic: mostly short prompts, some long documents, shared system prompts. */
  chat: {
    ...BASE,
    requests: 4000,
    ratePerSec: 36,
    longFraction: 0.12,
    prefixGroups: 24,
    prefixTokens: 1536,
    prefixZipf: 1.1,
    prefixShare: 0.6,
  },
  poisson: { ...BASE, requests: 4000, ratePerSec: 40 },
  bursty: {
    ...BASE,
    requests: 4000,
    ratePerSec: 40,
    arrival: "bursty",
    burstFactor: 3,
    burstOnMs: 2000,
    burstOffMs: 4000,
  },
  "two-wave": {
    ...BASE,
    requests: 2000,
    ratePerSec: 40,
    arrival: "two-wave",
    burstFactor: 4,
    waveGapMs: 5000,
    longFraction: 0.5,
  },
  "long-short": { ...BASE, requests: 4000, ratePerSec: 30, longFraction: 0.25 },
  "heavy-tail": {
    ...BASE,
    requests: 4000,
    ratePerSec: 40,
    output: { median: 120, sigma: 1.6, min: 1, max: 4096 },
  },
};

/** Tokens per prefix block (matches Mooncake's hash-id granularity). */
export const PREFIX_BLOCK_TOKENS = 512;

/** Question blocks (`prefixQuestions`): 2^30 + 16 x (group x Q + question) + block. */
const QUESTION_BLOCKS = 0x40000000;
const QUESTION_BLOCK_SPAN = 16;

function drawLength(rng: Rng, l: z.infer<typeof lengthSchema>): number {
  const value = Math.round(rng.lognormal(l.median, l.sigma));
  return Math.min(l.max, Math.max(l.min, value));
}

/** Lazily generates the workload's requests in arrival order. */
export function* generateSynthetic(w: SyntheticWorkload, seed: number): Generator<SimRequest> {
  const rng = new Rng(seed);
  const arrivals = rng.fork(1), lengths = rng.fork(2), prefixes = rng.fork(3);
  const meanGapMs = 1000 / w.ratePerSec;
  let uniqueBlock = 0x80000000; // unique suffix blocks never collide with shared prefixes
  let t = 0;
  const firstWave = Math.ceil(w.requests / 2);
  for (let id = 0; id < w.requests; id++) {
    if (w.arrival === "poisson") {
      t += arrivals.exponential(meanGapMs);
    } else if (w.arrival === "bursty") {
      // Burst periods at factor x the mean rate, quiet periods at none.
      t += arrivals.exponential(meanGapMs / w.burstFactor);
      const period = w.burstOnMs + w.burstOffMs;
      if (t % period >= w.burstOnMs) t += period - (t % period);
    } else {
      t += arrivals.exponential(meanGapMs / w.burstFactor);
      if (id === firstWave) t += w.waveGapMs;
    }
    // Two waves: the first carries the long prompts, the second the short ones.
    const long = w.arrival === "two-wave"
      ? id < firstWave && lengths.float() < 2 * w.longFraction
      : lengths.float() < w.longFraction;
    let prompt = drawLength(lengths, long ? w.longPrompt : w.shortPrompt);
    const output = drawLength(lengths, w.output);
    const blocks: number[] = [];
    if (w.prefixGroups > 0 && prefixes.float() < w.prefixShare) {
      const group = prefixes.zipf(w.prefixGroups, w.prefixZipf);
      const shared = Math.floor(w.prefixTokens / PREFIX_BLOCK_TOKENS);
      for (let b = 0; b < shared; b++) blocks.push(group * 4096 + b);
      prompt += w.prefixTokens;
      const questions = w.prefixQuestions ?? 0;
      if (questions > 0) {
        // The question's own blocks (the one straddling prefix and question included).
        const key = group * questions + Math.floor(prefixes.float() * questions);
        const base = QUESTION_BLOCKS + key * QUESTION_BLOCK_SPAN;
        const end = Math.min(Math.ceil(prompt / PREFIX_BLOCK_TOKENS), shared + QUESTION_BLOCK_SPAN);
        for (let b = shared; b < end; b++) blocks.push(base + b - shared);
      }
    }
    const total = Math.ceil(prompt / PREFIX_BLOCK_TOKENS);
    while (blocks.length < total) blocks.push(uniqueBlock++ >>> 0);
    yield { id, arrivalMs: t, promptTokens: prompt, outputTokens: output, prefixBlocks: blocks };
  }
}

export function syntheticSource(w: SyntheticWorkload, seed: number, name: string): RequestSource {
  const it = generateSynthetic(w, seed);
  return {
    description:
      `synthetic '${name}' (${w.requests} requests, ${w.ratePerSec} req/s ${w.arrival}, seed ${seed})`,
    next(): Promise<SimRequest[]> {
      const batch: SimRequest[] = [];
      for (let r = it.next(); !r.done; r = it.next()) {
        batch.push(r.value);
        if (batch.length === 4096) break;
      }
      return Promise.resolve(batch);
    },
  };
}
