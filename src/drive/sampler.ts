/**
 * The timeline of a driven run: every `intervalMs` each engine's /metrics (waiting, running,
 * KV usage) and, through the router, its status (queued prefill tokens per endpoint, router
 * queue depth). Rows use the simulator's timeline.csv columns; `prefilling` is not observable
 * from vLLM's metrics and is written as 0, `queued_prefill_tokens` is the router's estimate
 * (0 without a router). The same samples feed the per-GPU queue-depth, KV and busy tallies.
 */
import { csvField, type LineWriter } from "../io/line_writer.ts";
import { round3 } from "../metrics/latency_stats.ts";
import type { GpuTally } from "../metrics/run_metrics.ts";
import { parseExposition, SampleIndex } from "../metrics/prom_text.ts";

export interface Engine {
  readonly url: string;
  readonly gpu: number;
  readonly pool: string;
}

export interface Interval {
  completed: number;
  migrations: number;
  sheds: number;
}

async function scrape(url: string, signal: AbortSignal) {
  try {
    const res = await fetch(`${url}/metrics`, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(1000)]),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    const idx = new SampleIndex(parseExposition(await res.text()));
    return {
      waiting: idx.sum("vllm:num_requests_waiting") ?? 0,
      running: idx.sum("vllm:num_requests_running") ?? 0,
      kv: idx.first(["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"]) ?? 0,
    };
  } catch {
    return null;
  }
}

async function routerStatus(url: string, signal: AbortSignal) {
  try {
    const res = await fetch(`${url}/router/status`, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(1000)]),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    return await res.json() as {
      queueDepth: number;
      endpoints: { load: { queuedPrefillTokens: number } }[];
    };
  } catch {
    return null;
  }
}

export class Sampler {
  /** Samples that failed (engine unreachable or broken /metrics): counted, not hidden. */
  failedScrapes = 0;
  #last = 0;

  constructor(
    private readonly engines: readonly Engine[],
    private readonly tallies: readonly GpuTally[],
    private readonly routerUrl: string | null,
    private readonly timeline: LineWriter | null,
    /** Multiplies wall time into reported time (the run's time scale). */
    private readonly timeScale: number,
  ) {}

  async sample(elapsedWallMs: number, interval: Interval, signal: AbortSignal): Promise<void> {
    const [metrics, status] = await Promise.all([
      Promise.all(this.engines.map((e) => scrape(e.url, signal))),
      this.routerUrl ? routerStatus(this.routerUrl, signal) : Promise.resolve(null),
    ]);
    const t = round3(elapsedWallMs * this.timeScale);
    const dt = (elapsedWallMs - this.#last) * this.timeScale;
    this.#last = elapsedWallMs;
    this.engines.forEach((e, i) => {
      const m = metrics[i];
      if (!m) {
        this.failedScrapes++;
        return;
      }
      const g = this.tallies[i];
      g.queueDepthSum += m.waiting;
      g.queueDepthMax = Math.max(g.queueDepthMax, m.waiting);
      g.kvUsageSum += m.kv;
      g.samples++;
      if (m.running > 0) g.busyMs += dt;
      const queued = status?.endpoints[i]?.load.queuedPrefillTokens ?? 0;
      this.timeline?.write(
        [
          t,
          e.gpu,
          csvField(e.pool),
          m.waiting,
          0,
          m.running,
          round3(m.kv),
          round3(queued),
          0,
          0,
          0,
          0,
        ]
          .join(","),
      );
    });
    this.timeline?.write(
      [
        t,
        -1,
        "cluster",
        0,
        0,
        0,
        0,
        0,
        interval.completed,
        interval.migrations,
        interval.sheds,
        status?.queueDepth ?? 0,
      ].join(","),
    );
    interval.completed = interval.migrations = interval.sheds = 0;
  }
}
