/**
 * Scraping each engine's `/metrics` (vLLM names) to correct the router's own accounting.
 *
 * Read per endpoint: `vllm:num_requests_running` + `vllm:num_requests_waiting` (sequences),
 * `vllm:kv_cache_usage_perc` (or the older `vllm:gpu_cache_usage_perc`; a 0..1 fraction) times
 * the endpoint's KV capacity (blocks in use), and the TTFT and inter-token latency histograms
 * (older `vllm:time_per_output_token_seconds`), whose sum/count deltas between scrapes give the
 * engine's mean over the interval. Samples of every `model_name` are summed (one vLLM
 * instance serves one model). A scrape that fails, times out or is not Prometheus text counts
 * as no scrape: the previous one ages and stops being trusted after `staleAfterMs`.
 */
import { ExpositionError, parseExposition, SampleIndex } from "../metrics/prom_text.ts";
import type { Endpoint } from "./endpoint.ts";
import type { LoadBook } from "./load_book.ts";
import type { RouterMetrics } from "./router_metrics.ts";

export const METRIC = {
  running: "vllm:num_requests_running",
  waiting: "vllm:num_requests_waiting",
  kvUsage: ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"],
  ttftSum: "vllm:time_to_first_token_seconds_sum",
  ttftCount: "vllm:time_to_first_token_seconds_count",
  itlSum: ["vllm:inter_token_latency_seconds_sum", "vllm:time_per_output_token_seconds_sum"],
  itlCount: [
    "vllm:inter_token_latency_seconds_count",
    "vllm:time_per_output_token_seconds_count",
  ],
  promptTokens: "vllm:prompt_tokens_total",
  prefixQueries: "vllm:prefix_cache_queries_total",
  prefixHits: "vllm:prefix_cache_hits_total",
} as const;

/** The numbers one scrape yields. */
export interface EngineTelemetry {
  readonly running: number;
  readonly waiting: number;
  /** KV usage fraction 0..1. */
  readonly kvUsage: number;
  readonly ttftSum: number;
  readonly ttftCount: number;
  readonly itlSum: number;
  readonly itlCount: number;
  /** Prefix cache hit rate so far (tokens), or null when the engine does not report it. */
  readonly prefixHitRate: number | null;
}

/** Reads an engine's /metrics text; throws `ExpositionError` if the vLLM gauges are missing. */
export function readTelemetry(text: string): EngineTelemetry {
  const idx = new SampleIndex(parseExposition(text));
  const running = idx.sum(METRIC.running);
  const waiting = idx.sum(METRIC.waiting);
  const kv = idx.first(METRIC.kvUsage);
  if (running === undefined || waiting === undefined || kv === undefined) {
    throw new ExpositionError(
      `no vLLM load gauges (${METRIC.running}, ${METRIC.waiting}, ${METRIC.kvUsage[0]}) in ` +
        `the scrape: is this a vLLM /metrics endpoint?`,
    );
  }
  const queries = idx.sum(METRIC.prefixQueries);
  const hits = idx.sum(METRIC.prefixHits);
  return {
    running,
    waiting,
    kvUsage: kv,
    ttftSum: idx.sum(METRIC.ttftSum) ?? 0,
    ttftCount: idx.sum(METRIC.ttftCount) ?? 0,
    itlSum: idx.first(METRIC.itlSum) ?? 0,
    itlCount: idx.first(METRIC.itlCount) ?? 0,
    prefixHitRate: queries === undefined || hits === undefined || queries === 0
      ? null
      : hits / queries,
  };
}

export class Scraper {
  /** Last scrape error per endpoint (empty when the last scrape worked). */
  readonly errors: string[];
  readonly latest: (EngineTelemetry | null)[];

  constructor(
    private readonly endpoints: readonly Endpoint[],
    private readonly book: LoadBook,
    private readonly metrics: RouterMetrics,
    private readonly kvCapacityBlocks: readonly number[],
    private readonly timeoutMs: number,
    private readonly now: () => number,
    private readonly meanPromptTokens: () => number,
  ) {
    this.errors = endpoints.map(() => "");
    this.latest = endpoints.map(() => null);
  }

  /** Scrapes every endpoint once (in parallel). */
  async scrapeAll(signal: AbortSignal): Promise<void> {
    await Promise.all(this.endpoints.map((e) => this.scrape(e, signal)));
  }

  async scrape(e: Endpoint, signal: AbortSignal): Promise<void> {
    let t: EngineTelemetry;
    try {
      const res = await fetch(`${e.url}/metrics`, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      t = readTelemetry(text);
    } catch (err) {
      if (signal.aborted) return;
      this.errors[e.index] = `scrape of ${e.url}/metrics failed: ${(err as Error).message}`;
      this.metrics.scrapeErrors.inc({ endpoint: e.url });
      return;
    }
    this.errors[e.index] = "";
    this.latest[e.index] = t;
    const now = this.now();
    const kvBlocks = t.kvUsage * this.kvCapacityBlocks[e.index];
    this.book.scraped(
      e.index,
      t.running + t.waiting,
      kvBlocks,
      t.waiting,
      this.meanPromptTokens(),
      now,
    );
    const prev = e.histograms;
    e.histograms = {
      ttftSum: t.ttftSum,
      ttftCount: t.ttftCount,
      itlSum: t.itlSum,
      itlCount: t.itlCount,
    };
    if (prev) {
      const dTtft = t.ttftCount - prev.ttftCount, dItl = t.itlCount - prev.itlCount;
      // Counters reset when the engine restarts: a negative delta is not an observation.
      const ttft = dTtft > 0 && t.ttftSum >= prev.ttftSum
        ? (t.ttftSum - prev.ttftSum) / dTtft * 1000
        : null;
      const itl = dItl > 0 && t.itlSum >= prev.itlSum
        ? (t.itlSum - prev.itlSum) / dItl * 1000
        : null;
      this.book.observeScraped(e.index, ttft, itl, this.meanPromptTokens(), now);
    }
  }
}
