/**
 * One driven run: a workload replayed against an OpenAI-compatible server, open loop (each
 * request sent at its arrival time, whatever the server's state) or closed loop (`concurrency`
 * clients, each sending its next request when the previous ends). Every request's outcome goes
 * into the simulator's artifact format (src/metrics/run_metrics.ts), so `summary.json`,
 * `requests.csv` and `timeline.csv` of a driven run read exactly like a simulated one.
 *
 * Time scale: with engines that run `timeScale` times faster than real (emulators with
 * `--speed`), arrivals are compressed by that factor and every measured duration is scaled
 * back up, so results are in the modelled engine's time and compare with `pdroute simulate`.
 * Open-loop latencies count from the scheduled arrival, like the simulator's, so a driver
 * that falls behind shows up as latency rather than being hidden.
 */
import { LineWriter } from "../io/line_writer.ts";
import { writeJson } from "../io/json_file.ts";
import {
  REQUEST_CSV_HEADER,
  requestCsvRow,
  type RequestOutcome,
  RunMetrics,
  type RunSummary,
  TIMELINE_CSV_HEADER,
} from "../metrics/run_metrics.ts";
import type { Api } from "../openai/request.ts";
import type { SimRequest } from "../workload/request.ts";
import { openNonEmpty, type ResolvedWorkload } from "../workload/resolve.ts";
import { sendRequest } from "./client.ts";
import { promptFor } from "./prompt.ts";
import { type Engine, type Interval, Sampler } from "./sampler.ts";

export interface DriveTarget {
  /** Where requests go (router, emulator or vLLM). */
  readonly url: string;
  /** The engines behind it, indexed as the router's endpoints (one entry when direct). */
  readonly engines: readonly Engine[];
  /** Whether `url` is a pdroute router (its headers and /router/status are used). */
  readonly router: boolean;
  readonly policy: string;
  readonly implementation: string;
  readonly layout: string;
}

export type LoadMode = { kind: "open" } | { kind: "closed"; concurrency: number };

export interface DriveOptions {
  readonly label: string;
  readonly target: DriveTarget;
  readonly workload: ResolvedWorkload;
  readonly seed: number;
  readonly api: Api;
  readonly model: string;
  readonly stream: boolean;
  readonly mode: LoadMode;
  readonly timeScale: number;
  readonly prefixBlockTokens: number;
  /** Timeline sampling interval, in reported (engine) time. */
  readonly sampleIntervalMs: number;
  readonly requestTimeoutMs: number;
  readonly sloTtftMs: number;
  readonly sloTpotMs: number;
  readonly longPromptTokens: number;
  readonly gpusPerEngine: number;
  readonly gpuCostPerHour: number;
  /** Run directory (created); null writes nothing. */
  readonly dir: string | null;
  /** Extra facts for the run's config.json. */
  readonly describe?: Record<string, unknown>;
  readonly onProgress?: (done: number) => void;
}

export interface DriveResult {
  readonly summary: RunSummary;
  readonly wallMs: number;
  /** Failure messages by count (the first few of each kind), so nothing fails silently. */
  readonly errors: Record<string, number>;
  readonly failedScrapes: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

export async function runDrive(o: DriveOptions): Promise<DriveResult> {
  const { target } = o;
  // An empty workload fails here, before the run directory exists.
  const source = await openNonEmpty(o.workload);
  const scale = o.timeScale;
  const metrics = new RunMetrics({
    label: o.label,
    policy: target.policy,
    implementation: target.implementation,
    layout: target.layout,
    workload: o.workload.name,
    seed: o.seed,
    sloTtftMs: o.sloTtftMs,
    sloTpotMs: o.sloTpotMs,
    longPromptTokens: o.longPromptTokens,
    gpuCount: target.engines.length * o.gpusPerEngine,
    fleetCostPerHour: target.engines.length * o.gpusPerEngine * o.gpuCostPerHour,
  }, target.engines.map((e) => ({ gpu: e.gpu, pool: e.pool })));
  let requestsCsv: LineWriter | null = null, timelineCsv: LineWriter | null = null;
  if (o.dir) {
    Deno.mkdirSync(o.dir, { recursive: true });
    writeJson(`${o.dir}/config.json`, {
      drive: {
        label: o.label,
        target: target.url,
        engines: target.engines,
        router: target.router,
        policy: target.policy,
        layout: target.layout,
        workload: o.workload.name,
        seed: o.seed,
        api: o.api,
        stream: o.stream,
        mode: o.mode,
        timeScale: scale,
        ...o.describe,
      },
    });
    requestsCsv = new LineWriter(`${o.dir}/requests.csv`);
    requestsCsv.write(REQUEST_CSV_HEADER);
    timelineCsv = new LineWriter(`${o.dir}/timeline.csv`);
    timelineCsv.write(TIMELINE_CSV_HEADER);
  }
  const sampler = new Sampler(
    target.engines,
    metrics.gpus,
    target.router ? target.url : null,
    timelineCsv,
    scale,
  );
  const interval: Interval = { completed: 0, migrations: 0, sheds: 0 };
  const errors: Record<string, number> = {};
  const nonce = crypto.randomUUID().slice(0, 8);
  const stop = new AbortController();
  const start = performance.now();
  let done = 0;

  const fire = async (req: SimRequest, dueWall: number): Promise<void> => {
    const sentWall = performance.now() - start;
    const late = Math.max(0, sentWall - dueWall);
    const r = await sendRequest(target.url, {
      api: o.api,
      model: o.model,
      prompt: promptFor(req, o.prefixBlockTokens, nonce),
      maxTokens: req.outputTokens,
      stream: o.stream,
      requestId: `drive-${nonce}-${req.id}`,
    }, AbortSignal.any([stop.signal, AbortSignal.timeout(o.requestTimeoutMs)]));
    const direct = !target.router;
    const p = direct ? 0 : r.prefill, d = direct ? 0 : r.decode;
    const placed = p >= 0 && d >= 0 && p < target.engines.length && d < target.engines.length;
    if (placed) {
      metrics.gpus[p].prefills++;
      metrics.gpus[d].decodes++;
    }
    const ok = r.status === "ok";
    if (!ok) {
      const kind = r.error.replace(/[0-9a-f-]{8,}/g, "#").slice(0, 160);
      errors[kind] = (errors[kind] ?? 0) + 1;
    }
    const tokens = ok ? r.outputTokens : 0;
    const outcome: RequestOutcome = {
      id: req.id,
      arrivalMs: dueWall * scale,
      promptTokens: req.promptTokens,
      outputTokens: ok ? tokens : req.outputTokens,
      cachedTokens: r.cachedTokens,
      prefillGpu: placed ? target.engines[p].gpu : -1,
      decodeGpu: placed ? target.engines[d].gpu : -1,
      prefillPool: placed ? target.engines[p].pool : "none",
      disaggregated: placed && p !== d,
      status: r.status,
      queueMs: r.routerQueueMs * scale,
      ttftMs: ok ? (r.ttftMs + late) * scale : 0,
      tpotMs: ok && tokens > 1 ? (r.lastTokenMs - r.ttftMs) / (tokens - 1) * scale : 0,
      e2eMs: (r.e2eMs + late) * scale,
      migrations: r.migrations,
      preemptions: 0,
    };
    metrics.record(outcome);
    requestsCsv?.write(requestCsvRow(outcome));
    if (ok) interval.completed++;
    if (r.status === "shed") interval.sheds++;
    interval.migrations += r.migrations;
    o.onProgress?.(++done);
  };

  const sampleEvery = o.sampleIntervalMs / scale;
  const sampling = new AbortController();
  const sampleLoop = (async () => {
    while (!sampling.signal.aborted) {
      await sampler.sample(performance.now() - start, interval, sampling.signal);
      await sleep(sampleEvery - ((performance.now() - start) % sampleEvery), sampling.signal);
    }
  })();

  try {
    if (o.mode.kind === "open") {
      const pending = new Set<Promise<void>>();
      for (let batch = await source.next(); batch.length > 0; batch = await source.next()) {
        for (const req of batch) {
          const dueWall = req.arrivalMs / scale;
          const wait = dueWall - (performance.now() - start);
          if (wait >= 1) await sleep(wait);
          const p = fire(req, dueWall);
          pending.add(p);
          void p.finally(() => pending.delete(p));
        }
      }
      await Promise.all(pending);
    } else {
      let buffer: SimRequest[] = [];
      let exhausted = false;
      const next = async (): Promise<SimRequest | null> => {
        while (buffer.length === 0 && !exhausted) {
          buffer = await source.next();
          if (buffer.length === 0) exhausted = true;
        }
        return buffer.shift() ?? null;
      };
      await Promise.all(
        Array.from({ length: o.mode.concurrency }, async () => {
          for (let req = await next(); req; req = await next()) {
            await fire(req, performance.now() - start);
          }
        }),
      );
    }
  } finally {
    sampling.abort();
    stop.abort();
    await sampleLoop;
  }
  await sampler.sample(performance.now() - start, interval, new AbortController().signal);
  const summary = metrics.summary();
  if (o.dir) {
    requestsCsv!.close();
    timelineCsv!.close();
    writeJson(`${o.dir}/summary.json`, summary);
  }
  return {
    summary,
    wallMs: performance.now() - start,
    errors,
    failedScrapes: sampler.failedScrapes,
  };
}
