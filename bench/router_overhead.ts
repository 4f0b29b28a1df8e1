/**
 * Router overhead benchmark client (not a timed test; see bench/ROUTER_RESULTS.md and
 * bench/router_overhead.sh, which starts the emulators, nginx and pdroute around it).
 *
 * Closed loop: `--concurrency C` clients, each streaming one completion after another for
 * `--seconds`, against one or more base URLs (several: the client itself round-robins, which
 * is how "direct" is measured). With `--via PROXY`, every other request goes through the proxy
 * instead (A/B in one run, so both halves see the same engine load and CPU contention) and the
 * differences of the percentiles are reported as the proxy's added latency. It reads each stream as bytes only (first chunk = first
 * token, `data: [DONE]` at the end), so its own cost stays small and equal for every target.
 * Prints one JSON line: completed requests, errors, requests/s, chunks/s received, and
 * percentiles (ms) of TTFT (requests started in the window), the gap between consecutive
 * chunks of a stream, and end-to-end latency (requests completed in the window).
 *
 *   deno run -A bench/router_overhead.ts --url http://127.0.0.1:8000 --concurrency 100
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    url: { type: "string", multiple: true },
    /** A/B mode: every other request goes through this proxy instead of straight to --url. */
    via: { type: "string" },
    concurrency: { type: "string", default: "100" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    "max-tokens": { type: "string", default: "16" },
    /** Output lengths uniform in max-tokens x [1 - j, 1 + j]: keeps streams from marching in step. */
    jitter: { type: "string", default: "0.5" },
    "prompt-chars": { type: "string", default: "2000" },
    model: { type: "string", default: "emulated" },
    label: { type: "string", default: "" },
  },
});
const urls = values.url ?? [];
if (urls.length === 0) throw new Error("give at least one --url");
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds), warmup = Number(values.warmup);
const maxTokens = Number(values["max-tokens"]);
const jitter = Number(values.jitter);
// A seeded generator, so every target sees the same sequence of output lengths.
let seed = 12345;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const promptChars = Number(values["prompt-chars"]);

const DONE = new TextEncoder().encode("data: [DONE]");
function endsWithDone(tail: Uint8Array): boolean {
  // The stream ends "data: [DONE]\n\n": look for the marker in the last bytes.
  outer: for (let i = tail.length - DONE.length; i >= Math.max(0, tail.length - 32); i--) {
    for (let j = 0; j < DONE.length; j++) if (tail[i + j] !== DONE[j]) continue outer;
    return true;
  }
  return false;
}

interface Samples {
  ttft: number[];
  e2e: number[];
  itl: number[];
  chunks: number;
  errors: number;
}
const fresh = (): Samples => ({ ttft: [], e2e: [], itl: [], chunks: 0, errors: 0 });
const direct = fresh(), proxied = fresh();
let next = 0;
const start = performance.now();
const measureFrom = start + warmup * 1000, end = measureFrom + seconds * 1000;

async function one(worker: number, seq: number): Promise<void> {
  // A/B: odd requests of a worker go through the proxy, even ones straight to an engine.
  const viaProxy = values.via !== undefined && (worker + seq) % 2 === 1;
  const url = viaProxy ? values.via! : urls[(next++) % urls.length];
  const out = viaProxy ? proxied : direct;
  // A distinct prompt per request (no prefix-cache effects), the same size for every target.
  const prompt = `w${worker}r${seq} `.repeat(promptChars).slice(0, promptChars);
  const t0 = performance.now();
  try {
    const res = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: values.model,
        prompt,
        max_tokens: Math.max(1, Math.round(maxTokens * (1 - jitter + 2 * jitter * random()))),
        stream: true,
      }),
    });
    if (!res.ok || !res.body) {
      out.errors++;
      await res.body?.cancel();
      return;
    }
    let first = NaN, prev = NaN;
    let last = new Uint8Array(0);
    for await (const chunk of res.body) {
      const now = performance.now();
      if (Number.isNaN(first)) {
        first = now;
        if (t0 >= measureFrom && now <= end) out.ttft.push(first - t0);
      } else if (now >= measureFrom && now <= end) {
        // Gap between chunks (each chunk carries one token's event, or a few under load).
        out.itl.push(now - prev);
      }
      if (now >= measureFrom && now <= end) out.chunks++;
      prev = now;
      last = chunk;
    }
    const t1 = performance.now();
    if (!endsWithDone(last)) {
      out.errors++;
      return;
    }
    if (t0 >= measureFrom && t1 <= end) out.e2e.push(t1 - t0);
  } catch {
    out.errors++;
  }
}

await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
  // Clients start spread over the first second, not all at once.
  await new Promise((r) => setTimeout(r, w / concurrency * 1000));
  for (let seq = 0; performance.now() < end; seq++) await one(w, seq);
}));

const pct = (a: number[], p: number) => {
  if (a.length === 0) return NaN;
  const s = [...a].sort((x, y) => x - y);
  return Math.round(s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))] * 1000) / 1000;
};
const stats = (x: Samples) => ({
  completed: x.e2e.length,
  errors: x.errors,
  requestsPerSecond: Math.round(x.e2e.length / seconds * 10) / 10,
  chunksPerSecond: Math.round(x.chunks / seconds),
  ttftMs: { p50: pct(x.ttft, 50), p90: pct(x.ttft, 90), p99: pct(x.ttft, 99) },
  interChunkMs: { p50: pct(x.itl, 50), p90: pct(x.itl, 90), p99: pct(x.itl, 99) },
  e2eMs: { p50: pct(x.e2e, 50), p90: pct(x.e2e, 90), p99: pct(x.e2e, 99) },
});
const round = (x: number) => Math.round(x * 1000) / 1000;
if (values.via === undefined) {
  console.log(
    JSON.stringify({ label: values.label, urls, concurrency, seconds, ...stats(direct) }),
  );
} else {
  const a = stats(direct), b = stats(proxied);
  console.log(JSON.stringify({
    label: values.label,
    mode: "a/b",
    urls,
    via: values.via,
    concurrency,
    seconds,
    direct: a,
    proxied: b,
    addedMs: {
      ttftP50: round(b.ttftMs.p50 - a.ttftMs.p50),
      ttftP99: round(b.ttftMs.p99 - a.ttftMs.p99),
      interChunkP50: round(b.interChunkMs.p50 - a.interChunkMs.p50),
      interChunkP99: round(b.interChunkMs.p99 - a.interChunkMs.p99),
    },
  }));
}
