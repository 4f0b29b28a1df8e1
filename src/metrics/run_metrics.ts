/**
 * Everything one run measures, folded into bounded-memory accumulators as requests finish,
 * and the `summary.json` document built from them. The same format serves simulated and live
 * (driven) runs, so one report and one comparison read both.
 */
import { LatencyStats, type LatencySummary, round3 } from "./latency_stats.ts";

/**
 * ok: served in full. shed: refused for lack of capacity (503/429). rejected: can never be
 * served as asked (the engine cannot hold it; a 4xx from a live engine). failed: a live run's
 * request that broke (5xx, connection error, stream cut off); the simulator has none.
 */
export type RequestStatus = "ok" | "shed" | "rejected" | "failed";

/** One finished (or refused) request: a row of requests.csv. */
export interface RequestOutcome {
  readonly id: number;
  readonly arrivalMs: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly cachedTokens: number;
  readonly prefillGpu: number;
  readonly decodeGpu: number;
  readonly prefillPool: string;
  readonly disaggregated: boolean;
  readonly status: RequestStatus;
  /** Arrival to prefill start (router queue + engine queue). */
  readonly queueMs: number;
  readonly ttftMs: number;
  /** ms per output token after the first. */
  readonly tpotMs: number;
  readonly e2eMs: number;
  readonly migrations: number;
  readonly preemptions: number;
}

export const REQUEST_CSV_HEADER =
  "id,arrival_ms,prompt_tokens,output_tokens,cached_tokens,prefill_gpu,decode_gpu,prefill_pool," +
  "disaggregated,status,queue_ms,ttft_ms,tpot_ms,e2e_ms,migrations,preemptions";

export function requestCsvRow(o: RequestOutcome): string {
  return [
    o.id,
    round3(o.arrivalMs),
    o.promptTokens,
    o.outputTokens,
    o.cachedTokens,
    o.prefillGpu,
    o.decodeGpu,
    o.prefillPool,
    o.disaggregated ? 1 : 0,
    o.status,
    round3(o.queueMs),
    round3(o.ttftMs),
    round3(o.tpotMs),
    round3(o.e2eMs),
    o.migrations,
    o.preemptions,
  ].join(",");
}

export const TIMELINE_CSV_HEADER =
  "time_ms,gpu,pool,waiting,prefilling,running,kv_usage,queued_prefill_tokens,completed,migrations,sheds,router_queue";

/** Per-GPU accumulators. */
export interface GpuTally {
  readonly gpu: number;
  readonly pool: string;
  prefills: number;
  decodes: number;
  busyMs: number;
  queueDepthSum: number;
  queueDepthMax: number;
  kvUsageSum: number;
  samples: number;
}

export interface RunContext {
  readonly label: string;
  readonly policy: string;
  readonly implementation: string;
  readonly layout: string;
  readonly workload: string;
  readonly seed: number;
  readonly sloTtftMs: number;
  readonly sloTpotMs: number;
  readonly longPromptTokens: number;
  /** Physical GPUs (instances x tensor parallel). */
  readonly gpuCount: number;
  /** Price of the whole fleet per hour. */
  readonly fleetCostPerHour: number;
}

export class RunMetrics {
  readonly ttft = new LatencyStats();
  readonly tpot = new LatencyStats();
  readonly e2e = new LatencyStats();
  readonly queue = new LatencyStats();
  readonly ttftByPool = new Map<string, LatencyStats>();
  readonly ttftByClass = { short: new LatencyStats(), long: new LatencyStats() };
  readonly gpus: GpuTally[];
  completed = 0;
  shed = 0;
  rejected = 0;
  failed = 0;
  good = 0;
  disaggregated = 0;
  migrations = 0;
  preemptions = 0;
  promptTokens = 0;
  cachedTokens = 0;
  outputTokens = 0;
  firstArrivalMs = Infinity;
  lastEventMs = 0;

  constructor(readonly context: RunContext, gpus: readonly { gpu: number; pool: string }[]) {
    this.gpus = gpus.map((g) => ({
      ...g,
      prefills: 0,
      decodes: 0,
      busyMs: 0,
      queueDepthSum: 0,
      queueDepthMax: 0,
      kvUsageSum: 0,
      samples: 0,
    }));
  }

  record(o: RequestOutcome): void {
    this.firstArrivalMs = Math.min(this.firstArrivalMs, o.arrivalMs);
    this.lastEventMs = Math.max(this.lastEventMs, o.arrivalMs + o.e2eMs);
    if (o.status === "shed") {
      this.shed++;
      return;
    }
    if (o.status === "rejected") {
      this.rejected++;
      return;
    }
    if (o.status === "failed") {
      this.failed++;
      return;
    }
    const c = this.context;
    this.completed++;
    this.ttft.record(o.ttftMs);
    this.e2e.record(o.e2eMs);
    this.queue.record(o.queueMs);
    if (o.outputTokens > 1) this.tpot.record(o.tpotMs);
    let pool = this.ttftByPool.get(o.prefillPool);
    if (!pool) this.ttftByPool.set(o.prefillPool, pool = new LatencyStats());
    pool.record(o.ttftMs);
    (o.promptTokens >= c.longPromptTokens ? this.ttftByClass.long : this.ttftByClass.short).record(
      o.ttftMs,
    );
    if (o.ttftMs <= c.sloTtftMs && (o.outputTokens <= 1 || o.tpotMs <= c.sloTpotMs)) this.good++;
    if (o.disaggregated) this.disaggregated++;
    this.migrations += o.migrations;
    this.preemptions += o.preemptions;
    this.promptTokens += o.promptTokens;
    this.cachedTokens += o.cachedTokens;
    this.outputTokens += o.outputTokens;
  }

  summary(): RunSummary {
    const c = this.context;
    const total = this.completed + this.shed + this.rejected + this.failed;
    const durationMs = total === 0 ? 0 : this.lastEventMs - this.firstArrivalMs;
    const seconds = durationMs / 1000;
    const dollars = c.fleetCostPerHour * durationMs / 3_600_000;
    const tokens = this.promptTokens + this.outputTokens;
    const pools = [...new Set(this.gpus.map((g) => g.pool))];
    const byPool = (f: (g: GpuTally) => number) =>
      Object.fromEntries(pools.map((p) => {
        const gs = this.gpus.filter((g) => g.pool === p);
        return [p, round3(gs.reduce((s, g) => s + f(g), 0) / gs.length)];
      }));
    return {
      schemaVersion: 1,
      run: {
        label: c.label,
        policy: c.policy,
        implementation: c.implementation,
        layout: c.layout,
        workload: c.workload,
        seed: c.seed,
        gpus: c.gpuCount,
      },
      requests: {
        total,
        completed: this.completed,
        shed: this.shed,
        rejected: this.rejected,
        failed: this.failed,
      },
      durationMs: round3(durationMs),
      ttftMs: this.ttft.summary(),
      tpotMs: this.tpot.summary(),
      e2eMs: this.e2e.summary(),
      queueMs: this.queue.summary(),
      ttftByPool: Object.fromEntries(
        [...this.ttftByPool.entries()].sort().map(([k, v]) => [k, v.summary()]),
      ),
      ttftByPromptClass: {
        short: this.ttftByClass.short.summary(),
        long: this.ttftByClass.long.summary(),
      },
      goodput: {
        sloTtftMs: c.sloTtftMs,
        sloTpotMs: c.sloTpotMs,
        requests: this.good,
        fraction: round3(total === 0 ? 0 : this.good / total),
        perSecond: round3(seconds === 0 ? 0 : this.good / seconds),
        perGpuPerSecond: round3(seconds === 0 ? 0 : this.good / seconds / c.gpuCount),
      },
      prefix: {
        promptTokens: this.promptTokens,
        cachedTokens: this.cachedTokens,
        hitRate: round3(this.promptTokens === 0 ? 0 : this.cachedTokens / this.promptTokens),
      },
      disaggregated: this.disaggregated,
      migrations: this.migrations,
      preemptions: this.preemptions,
      queueDepth: {
        meanByPool: byPool((g) => g.samples === 0 ? 0 : g.queueDepthSum / g.samples),
        maxByPool: Object.fromEntries(
          pools.map((p) => [
            p,
            Math.max(...this.gpus.filter((g) => g.pool === p).map((g) => g.queueDepthMax)),
          ]),
        ),
      },
      kvUsage: { meanByPool: byPool((g) => g.samples === 0 ? 0 : g.kvUsageSum / g.samples) },
      tokens: { prompt: this.promptTokens, output: this.outputTokens },
      cost: {
        fleetDollarsPerHour: round3(c.fleetCostPerHour),
        dollars: round3(dollars),
        perMillionTokens: round3(tokens === 0 ? 0 : dollars / tokens * 1e6),
      },
      perGpu: this.gpus.map((g) => ({
        gpu: g.gpu,
        pool: g.pool,
        prefills: g.prefills,
        decodes: g.decodes,
        busyFraction: round3(durationMs === 0 ? 0 : Math.min(1, g.busyMs / durationMs)),
      })),
    };
  }
}

export interface RunSummary {
  readonly schemaVersion: 1;
  readonly run: {
    readonly label: string;
    readonly policy: string;
    readonly implementation: string;
    readonly layout: string;
    readonly workload: string;
    readonly seed: number;
    readonly gpus: number;
  };
  readonly requests: {
    readonly total: number;
    readonly completed: number;
    readonly shed: number;
    readonly rejected: number;
    readonly failed: number;
  };
  readonly durationMs: number;
  readonly ttftMs: LatencySummary;
  readonly tpotMs: LatencySummary;
  readonly e2eMs: LatencySummary;
  readonly queueMs: LatencySummary;
  readonly ttftByPool: Readonly<Record<string, LatencySummary>>;
  readonly ttftByPromptClass: { readonly short: LatencySummary; readonly long: LatencySummary };
  readonly goodput: {
    readonly sloTtftMs: number;
    readonly sloTpotMs: number;
    readonly requests: number;
    readonly fraction: number;
    readonly perSecond: number;
    readonly perGpuPerSecond: number;
  };
  readonly prefix: {
    readonly promptTokens: number;
    readonly cachedTokens: number;
    readonly hitRate: number;
  };
  readonly disaggregated: number;
  readonly migrations: number;
  readonly preemptions: number;
  readonly queueDepth: {
    readonly meanByPool: Record<string, number>;
    readonly maxByPool: Record<string, number>;
  };
  readonly kvUsage: { readonly meanByPool: Record<string, number> };
  readonly tokens: { readonly prompt: number; readonly output: number };
  readonly cost: {
    readonly fleetDollarsPerHour: number;
    readonly dollars: number;
    readonly perMillionTokens: number;
  };
  readonly perGpu: readonly {
    gpu: number;
    pool: string;
    prefills: number;
    decodes: number;
    busyFraction: number;
  }[];
}
