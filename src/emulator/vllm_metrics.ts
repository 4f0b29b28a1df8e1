/**
 * The emulator's `/metrics`, under vLLM's own metric names and labels (v1 engine): gauges
 * `vllm:num_requests_running`, `vllm:num_requests_waiting`, `vllm:kv_cache_usage_perc` (a
 * fraction 0..1 despite the name; `vllm:gpu_cache_usage_perc` with legacy names), counters
 * for tokens, preemptions and the prefix cache (in tokens, as vLLM counts), and histograms of
 * TTFT, inter-token latency, end-to-end latency and queue time, with vLLM's bucket bounds.
 * Times are wall-clock seconds: what a client of an engine this fast would observe.
 */
import client from "prom-client";

/** vLLM's bucket bounds (vllm/v1/metrics/loggers.py). */
const TTFT_BUCKETS = [
  0.001,
  0.005,
  0.01,
  0.02,
  0.04,
  0.06,
  0.08,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
  20,
  40,
  80,
  160,
  640,
  2560,
];
const ITL_BUCKETS = [
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.15,
  0.2,
  0.3,
  0.4,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
  20,
  40,
  80,
];
const LATENCY_BUCKETS = [
  0.3,
  0.5,
  0.8,
  1,
  1.5,
  2,
  2.5,
  5,
  10,
  15,
  20,
  30,
  40,
  50,
  60,
  120,
  240,
  480,
  960,
  1920,
  7680,
];

export interface EngineGauges {
  running(): number;
  waiting(): number;
  kvUsage(): number;
}

export class VllmMetrics {
  readonly registry = new client.Registry();
  readonly promptTokens: client.Counter<string>;
  readonly generationTokens: client.Counter<string>;
  readonly preemptions: client.Counter<string>;
  readonly prefixQueries: client.Counter<string>;
  readonly prefixHits: client.Counter<string>;
  readonly success: client.Counter<string>;
  readonly ttft: client.Histogram<string>;
  readonly itl: client.Histogram<string>;
  readonly e2e: client.Histogram<string>;
  readonly queue: client.Histogram<string>;
  /** Emulator-only: decode requests whose KV could not be pulled (recomputed instead). */
  readonly kvPullFailures: client.Counter<string>;
  readonly labels: { model_name: string; engine: string };

  constructor(modelName: string, gauges: EngineGauges, legacyNames: boolean) {
    const registers = [this.registry];
    const labelNames = ["model_name", "engine"] as const;
    this.labels = { model_name: modelName, engine: "0" };
    const labels = this.labels;
    const gauge = (name: string, help: string, read: () => number) =>
      new client.Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.set(labels, read());
        },
      });
    gauge(
      "vllm:num_requests_running",
      "Number of requests in model execution batches.",
      gauges.running,
    );
    gauge(
      "vllm:num_requests_waiting",
      "Number of requests waiting to be processed.",
      gauges.waiting,
    );
    gauge(
      legacyNames ? "vllm:gpu_cache_usage_perc" : "vllm:kv_cache_usage_perc",
      "KV-cache usage. 1 means 100 percent usage.",
      gauges.kvUsage,
    );
    const counter = (name: string, help: string, extra: string[] = []) =>
      new client.Counter({ name, help, labelNames: [...labelNames, ...extra], registers });
    this.promptTokens = counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.");
    this.generationTokens = counter(
      "vllm:generation_tokens_total",
      "Number of generation tokens processed.",
    );
    this.preemptions = counter(
      "vllm:num_preemptions_total",
      "Cumulative number of preemption from the engine.",
    );
    this.prefixQueries = counter(
      "vllm:prefix_cache_queries_total",
      "Prefix cache queries, in terms of number of queried tokens.",
    );
    this.prefixHits = counter(
      "vllm:prefix_cache_hits_total",
      "Prefix cache hits, in terms of number of cached tokens.",
    );
    this.success = counter(
      "vllm:request_success_total",
      "Count of successfully processed requests.",
      ["finished_reason"],
    );
    this.kvPullFailures = counter(
      "emulator:kv_pull_failures_total",
      "Decode requests whose remote KV could not be pulled (recomputed locally).",
    );
    // vLLM exports every counter from the start; prom-client only once a label set is used.
    for (
      const c of [
        this.promptTokens,
        this.generationTokens,
        this.preemptions,
        this.prefixQueries,
        this.prefixHits,
        this.kvPullFailures,
      ]
    ) c.inc(labels, 0);
    const histogram = (name: string, help: string, buckets: number[]) =>
      new client.Histogram({ name, help, labelNames, buckets, registers });
    this.ttft = histogram(
      "vllm:time_to_first_token_seconds",
      "Histogram of time to first token in seconds.",
      TTFT_BUCKETS,
    );
    this.itl = histogram(
      "vllm:inter_token_latency_seconds",
      "Histogram of inter-token latency in seconds.",
      ITL_BUCKETS,
    );
    this.e2e = histogram(
      "vllm:e2e_request_latency_seconds",
      "Histogram of e2e request latency in seconds.",
      LATENCY_BUCKETS,
    );
    this.queue = histogram(
      "vllm:request_queue_time_seconds",
      "Histogram of time spent in WAITING phase for request.",
      LATENCY_BUCKETS,
    );
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
