/**
 * The router's own `/metrics` (Prometheus text, via prom-client): requests by endpoint and
 * outcome, TTFT and TPOT as the router relays them, decisions (disaggregated vs local),
 * migrations, sheds, retries, decision latency, and per-endpoint health, load, requests in
 * flight and telemetry age. Label `endpoint` is the engine's URL. Every label set known at
 * start (`zeroKnown`) is exported from the first scrape, at zero until it happens, so rates
 * and alerts see a series before its first increment.
 */
import client from "prom-client";

export type Outcome =
  /** Completed and relayed in full. */
  | "ok"
  /** The engine refused the request (4xx), relayed as is. */
  | "client_error"
  /** The engine failed after output reached the client; the client got an error event. */
  | "upstream_error"
  /** Every attempt failed before any output; the client got a 502/504. */
  | "failed"
  /** The client went away. */
  | "cancelled"
  /** No capacity: 503 with Retry-After. */
  | "shed";

const ENGINE_OUTCOMES: readonly Outcome[] = [
  "ok",
  "client_error",
  "upstream_error",
  "failed",
  "cancelled",
];

/** Statuses the router answers itself (`pdroute_bad_requests_total`). */
export const BAD_REQUEST_STATUSES = ["400", "404", "405", "408", "413", "415"] as const;

/** What the router knows at start, to export zeros for. */
export interface KnownLabels {
  readonly policy: string;
  /** Engines that prefill (TTFT is by prefill endpoint). */
  readonly prefill: readonly string[];
  /** Engines that decode (TPOT, migrations). */
  readonly decode: readonly string[];
  readonly migrates: boolean;
  readonly shedReasons: readonly string[];
}

export class RouterMetrics {
  readonly registry = new client.Registry();
  readonly requests: client.Counter<"endpoint" | "outcome">;
  readonly ttft: client.Histogram<"endpoint">;
  readonly tpot: client.Histogram<"endpoint">;
  readonly decisions: client.Counter<"policy" | "path">;
  readonly migrations: client.Counter<"from" | "to">;
  readonly sheds: client.Counter<"reason">;
  readonly retries: client.Counter<"endpoint" | "reason">;
  readonly decisionSeconds: client.Histogram<string>;
  readonly scrapeErrors: client.Counter<"endpoint">;
  readonly badRequests: client.Counter<"status">;
  readonly prefixTokens: client.Counter<"endpoint" | "source">;
  readonly prefixError: client.Histogram<"endpoint">;

  /** The decision's cached prompt tokens against what the engine that prefilled reported. */
  prefixAccuracy(endpoint: string, predicted: number, reported: number): void {
    this.prefixTokens.inc({ endpoint, source: "predicted" }, predicted);
    this.prefixTokens.inc({ endpoint, source: "reported" }, reported);
    this.prefixError.observe({ endpoint }, Math.abs(predicted - reported));
  }

  constructor(
    endpoints: readonly string[],
    state: {
      healthy(i: number): boolean;
      load(i: number): { queued: number; seqs: number; kv: number };
      telemetryAgeSeconds(i: number): number;
      queueDepth(): number;
      inFlight(): number;
      /** Requests placed on endpoint `i` and not finished (decoding there or prefilling). */
      endpointInFlight(i: number): number;
    },
  ) {
    const registers = [this.registry];
    this.requests = new client.Counter({
      name: "pdroute_requests_total",
      help: "Requests by decode endpoint ('none' if never placed) and outcome.",
      labelNames: ["endpoint", "outcome"],
      registers,
    });
    const latency = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    this.ttft = new client.Histogram({
      name: "pdroute_ttft_seconds",
      help: "Time to first token as relayed by the router, by prefill endpoint.",
      labelNames: ["endpoint"],
      buckets: latency,
      registers,
    });
    this.tpot = new client.Histogram({
      name: "pdroute_tpot_seconds",
      help: "Time per output token after the first, by decode endpoint.",
      labelNames: ["endpoint"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1],
      registers,
    });
    this.decisions = new client.Counter({
      name: "pdroute_decisions_total",
      help: "Routing decisions: path disaggregated, local, or no_capacity.",
      labelNames: ["policy", "path"],
      registers,
    });
    this.migrations = new client.Counter({
      name: "pdroute_migrations_total",
      help: "Requests moved to another decode endpoint before their decode started.",
      labelNames: ["from", "to"],
      registers,
    });
    this.sheds = new client.Counter({
      name: "pdroute_sheds_total",
      help: "Requests refused for lack of capacity (503 + Retry-After), by reason.",
      labelNames: ["reason"],
      registers,
    });
    this.retries = new client.Counter({
      name: "pdroute_retries_total",
      help: "Attempts abandoned on an endpoint before any output reached the client.",
      labelNames: ["endpoint", "reason"],
      registers,
    });
    this.decisionSeconds = new client.Histogram({
      name: "pdroute_decision_seconds",
      help: "Time to decide one placement (scoring core route call and accounting).",
      buckets: [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3],
      registers,
    });
    this.scrapeErrors = new client.Counter({
      name: "pdroute_scrape_errors_total",
      help: "Failed /metrics scrapes (unreachable, non-200, or not Prometheus text).",
      labelNames: ["endpoint"],
      registers,
    });
    this.badRequests = new client.Counter({
      name: "pdroute_bad_requests_total",
      help: "Requests the router refused itself (400, 404, 405, 408, 413, 415), by status.",
      labelNames: ["status"],
      registers,
    });
    this.prefixTokens = new client.Counter({
      name: "pdroute_prefix_cached_tokens_total",
      help: "Cached prompt tokens on requests whose engine reported them: source predicted " +
        "(the router's decision) or reported (usage.prompt_tokens_details.cached_tokens).",
      labelNames: ["endpoint", "source"],
      registers,
    });
    this.prefixError = new client.Histogram({
      name: "pdroute_prefix_prediction_error_tokens",
      help: "|predicted - reported| cached prompt tokens per request, by the prefilling endpoint.",
      labelNames: ["endpoint"],
      buckets: [0, 16, 64, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768],
      registers,
    });
    new client.Gauge({
      name: "pdroute_endpoint_healthy",
      help: "1 if the endpoint is taking traffic, 0 if marked unhealthy.",
      labelNames: ["endpoint"],
      registers,
      collect() {
        endpoints.forEach((url, i) => this.set({ endpoint: url }, state.healthy(i) ? 1 : 0));
      },
    });
    new client.Gauge({
      name: "pdroute_endpoint_load",
      help: "Load the policy sees (own accounting + fresh scraped external load).",
      labelNames: ["endpoint", "kind"],
      registers,
      collect() {
        endpoints.forEach((url, i) => {
          const l = state.load(i);
          this.set({ endpoint: url, kind: "queued_prefill_tokens" }, l.queued);
          this.set({ endpoint: url, kind: "active_seqs" }, l.seqs);
          this.set({ endpoint: url, kind: "active_kv_blocks" }, l.kv);
        });
      },
    });
    new client.Gauge({
      name: "pdroute_endpoint_in_flight",
      help: "Requests placed on the endpoint and not finished (decoding there, or prefilling).",
      labelNames: ["endpoint"],
      registers,
      collect() {
        endpoints.forEach((url, i) => this.set({ endpoint: url }, state.endpointInFlight(i)));
      },
    });
    new client.Gauge({
      name: "pdroute_telemetry_age_seconds",
      help: "Age of the last successful /metrics scrape (+Inf: never).",
      labelNames: ["endpoint"],
      registers,
      collect() {
        endpoints.forEach((url, i) => this.set({ endpoint: url }, state.telemetryAgeSeconds(i)));
      },
    });
    new client.Gauge({
      name: "pdroute_queue_depth",
      help: "Requests waiting at the router for capacity.",
      registers,
      collect() {
        this.set(state.queueDepth());
      },
    });
    new client.Gauge({
      name: "pdroute_in_flight",
      help: "Requests the router is handling.",
      registers,
      collect() {
        this.set(state.inFlight());
      },
    });
  }

  /** Exports every known label set of the labelled counters and histograms at zero. */
  zeroKnown(endpoints: readonly string[], k: KnownLabels): void {
    for (const endpoint of endpoints) {
      for (const outcome of ENGINE_OUTCOMES) this.requests.inc({ endpoint, outcome }, 0);
      for (const reason of ["timeout", "error"]) this.retries.inc({ endpoint, reason }, 0);
      this.scrapeErrors.inc({ endpoint }, 0);
    }
    for (const outcome of ["cancelled", "shed"] as const) {
      this.requests.inc({ endpoint: "none", outcome }, 0);
    }
    for (const path of ["disaggregated", "local", "no_capacity"]) {
      this.decisions.inc({ policy: k.policy, path }, 0);
    }
    for (const reason of k.shedReasons) this.sheds.inc({ reason }, 0);
    for (const status of BAD_REQUEST_STATUSES) this.badRequests.inc({ status }, 0);
    for (const endpoint of k.prefill) {
      this.ttft.zero({ endpoint });
      this.prefixError.zero({ endpoint });
      for (const source of ["predicted", "reported"]) {
        this.prefixTokens.inc({ endpoint, source }, 0);
      }
    }
    for (const endpoint of k.decode) this.tpot.zero({ endpoint });
    if (k.migrates) {
      for (const from of k.decode) {
        for (const to of k.decode) if (from !== to) this.migrations.inc({ from, to }, 0);
      }
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
