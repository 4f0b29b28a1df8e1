/**
 * The discrete-event simulation of one policy on one fleet and workload.
 *
 * Events: request arrivals (pulled lazily from the workload), engine wake-ups (end of a step
 * or decode span), deliveries (a dispatch after the router hop, KV after a prefill->decode or
 * migration transfer), migration-planning ticks, timeline samples and router-queue timeouts.
 * The router (SimRouter) decides; engines (Engine) execute; RunMetrics and the artifact
 * writers observe. Same config and seed: the same event order, byte-identical results.
 */
import type { PolicyConfigInput } from "../core/config.ts";
import { csvField, type LineWriter } from "../io/line_writer.ts";
import type { SimConfig } from "./config.ts";
import { Engine, type EngineListener } from "../engine_model/engine.ts";
import { EventQueue } from "./event_queue.ts";
import { type Job, newJob } from "../engine_model/job.ts";
import { type Fleet, type FleetMember, transferMs } from "./fleet.ts";
import { round3 } from "../metrics/latency_stats.ts";
import {
  requestCsvRow,
  type RequestOutcome,
  RunMetrics,
  type RunSummary,
} from "../metrics/run_metrics.ts";
import type { Routed, SimRouter } from "./sim_router.ts";
import { RouterSet } from "./router_set.ts";
import { engineRequest } from "./prefix_knowledge.ts";
import type { RequestSource, SimRequest } from "../workload/request.ts";
import { Rng } from "../workload/rng.ts";
import { policyInfo } from "../core/policies.ts";

/**
 * Engine wake-ups, the next arrival and the router queue's next deadline are the queue's keyed
 * entries (keys: the engine's index; the engine count; the engine count + 1); these are the
 * rest.
 */
type Event =
  /** A job reaches an engine; `releaseFrom` >= 0 frees its KV on the prefill engine first. */
  | { kind: "deliver"; time: number; engine: number; job: Job; releaseFrom: number }
  /** Replica `replica` plans migrations (replicas' timers are staggered over the interval). */
  | { kind: "migrate"; time: number; replica: number }
  | { kind: "sample"; time: number }
  | { kind: "scrape"; time: number }
  /** A delayed message between router replicas, or a delayed KV event (src/sim/router_set.ts). */
  | { kind: "call"; time: number; run: () => void };

/** A request in flight: the router's view, its job, and its timestamps. */
interface InFlight {
  readonly request: SimRequest;
  /** The request as the engines see it (its prefix blocks at their block size). */
  readonly engineRequest: SimRequest;
  /** The router replica that routes it. */
  readonly replica: number;
  routed: Routed | null;
  job: Job | null;
  prefillMember: FleetMember | null;
  queuedAt: number;
  prefillStartMs: number;
  firstTokenMs: number;
  migrations: number;
  preemptions: number;
}

/** The simulation's jobs carry their request's record as owner (no lookup per callback). */
const flightOf = (job: Job): InFlight => job.owner as InFlight;

export interface SimulationRun {
  readonly label: string;
  readonly config: SimConfig;
  readonly fleet: Fleet;
  readonly policy: PolicyConfigInput;
  readonly source: RequestSource;
  readonly workloadName: string;
  /** Where per-request and timeline rows go; omit to keep only the summary. */
  readonly requestsCsv?: LineWriter;
  readonly timelineCsv?: LineWriter;
  /** Called with simulated time now and then (for progress bars). */
  readonly onProgress?: (simulatedMs: number, completed: number) => void;
}

export class Simulation implements EngineListener {
  readonly #queue: EventQueue<Event>;
  readonly #engines: Engine[];
  readonly #routers: RouterSet;
  #inFlight = 0;
  /** Per replica, decoding requests by their migration slot (see SimRouter.slots). */
  readonly #bySlot: (InFlight | undefined)[][];
  readonly #routerQueue: InFlight[] = [];
  readonly metrics: RunMetrics;
  #sourceDone = false;
  #buffer: SimRequest[] = [];
  /** The arrival scheduled under `#arrivalKey`. */
  #nextArrival: SimRequest | null = null;
  readonly #arrivalKey: number;
  /**
   * The router queue's head deadline: one pending entry, moved as the head changes. (One
   * timeout event pushed per drain used to pile up duplicates in sustained overload, each a
   * further failed route: 10x the run time.)
   */
  readonly #deadlineKey: number;
  #bufferAt = 0;
  #now = 0;
  #interval = { completed: 0, migrations: 0, sheds: 0 };
  #completedTotal = 0;

  constructor(private readonly run: SimulationRun) {
    const { config, fleet, policy } = run;
    const rng = new Rng(config.seed);
    this.#routers = new RouterSet(
      config,
      fleet,
      policy,
      rng,
      (delayMs, run) => this.#push({ kind: "call", time: this.#now + delayMs, run }),
    );
    this.#bySlot = this.#routers.routers.map(() => []);
    this.#engines = fleet.members.map((m) => new Engine(m.index, fleet.time, fleet.engine, this));
    this.#arrivalKey = this.#engines.length;
    this.#deadlineKey = this.#engines.length + 1;
    this.#queue = new EventQueue<Event>(this.#engines.length + 2);
    const core = this.#routers.first.core.config;
    this.metrics = new RunMetrics({
      label: run.label,
      policy: core.policy,
      implementation: config.router.implementation,
      layout: config.layout,
      workload: run.workloadName,
      seed: config.seed,
      sloTtftMs: config.slo.ttftMs,
      sloTpotMs: config.slo.tpotMs,
      longPromptTokens: config.longPromptTokens,
      gpuCount: fleet.members.length * config.tensorParallel,
      fleetCostPerHour: fleet.members.length * config.tensorParallel * fleet.gpu.costPerHour,
    }, fleet.members.map((m) => ({ gpu: m.gpu, pool: m.pool })));
  }

  async execute(): Promise<RunSummary> {
    await this.#refill();
    this.#scheduleNextArrival();
    this.#push({ kind: "sample", time: 0 });
    if (this.#routers.first.core.migrates) {
      const interval = this.run.config.router.migrationIntervalMs;
      const replicas = this.#bySlot.length;
      for (let k = 0; k < replicas; k++) {
        this.#push({ kind: "migrate", time: interval + k * interval / replicas, replica: k });
      }
    }
    if (policyInfo(this.#routers.first.core.config.policy).readsMetrics) {
      this.#push({ kind: "scrape", time: 0 });
    }
    let steps = 0;
    for (let ev = this.#queue.pop(); ev !== undefined; ev = this.#queue.pop()) {
      this.#now = this.#queue.time;
      if (ev === this.#arrivalKey) {
        this.#arrive(this.#nextArrival!);
        // Awaits only when the source's batch is used up, not per request.
        if (this.#bufferAt >= this.#buffer.length) await this.#refill();
        this.#scheduleNextArrival();
      } else if (ev === this.#deadlineKey) {
        this.#drainRouterQueue();
      } else if (typeof ev === "number") {
        this.#engines[ev].onWake(this.#now);
      } else this.#handle(ev);
      if (++steps % 65536 === 0) this.run.onProgress?.(this.#now, this.#completedTotal);
    }
    this.#sample();
    this.run.requestsCsv?.flush();
    this.run.timelineCsv?.flush();
    for (const m of this.run.fleet.members) {
      this.metrics.gpus[m.index].busyMs = this.#engines[m.index].busyMs;
    }
    return this.metrics.summary();
  }

  #handle(ev: Event): void {
    switch (ev.kind) {
      case "deliver":
        if (ev.releaseFrom >= 0) {
          this.#engines[ev.releaseFrom].releaseKv(ev.job, ev.time);
          ev.job.phase = "decode"; // prefilled elsewhere: only decoding is left
        }
        this.#engines[ev.engine].enqueue(ev.job, ev.time);
        break;
      case "migrate":
        this.#planReplica(ev.replica);
        if (this.#busy()) {
          this.#push({
            kind: "migrate",
            time: ev.time + this.run.config.router.migrationIntervalMs,
            replica: ev.replica,
          });
        }
        break;
      case "sample":
        this.#sample();
        if (this.#busy()) {
          this.#push({ kind: "sample", time: ev.time + this.run.config.timeline.intervalMs });
        }
        break;
      case "scrape":
        this.#scrape();
        if (this.#busy()) {
          this.#push({ kind: "scrape", time: ev.time + this.run.config.router.scrapeIntervalMs });
        }
        break;
      case "call":
        ev.run();
        // Another replica's release may have made room for a request waiting at the router.
        if (this.#routerQueue.length > 0) this.#drainRouterQueue();
        break;
    }
  }

  #busy(): boolean {
    return !this.#sourceDone || this.#buffer.length > this.#bufferAt || this.#inFlight > 0;
  }

  #push(e: Event): void {
    this.#queue.push(e.time, e);
  }

  /** Fetches the source's next batch once the current one is used up. */
  async #refill(): Promise<void> {
    if (this.#bufferAt >= this.#buffer.length && !this.#sourceDone) {
      this.#buffer = await this.run.source.next();
      this.#bufferAt = 0;
      if (this.#buffer.length === 0) this.#sourceDone = true;
    }
  }

  #scheduleNextArrival(): void {
    if (this.#bufferAt < this.#buffer.length) {
      const request = this.#buffer[this.#bufferAt++];
      this.#nextArrival = request;
      this.#queue.set(this.#arrivalKey, Math.max(request.arrivalMs, this.#now));
    }
  }

  #arrive(request: SimRequest): void {
    const f: InFlight = {
      request,
      engineRequest: engineRequest(request, this.run.fleet.engine.prefixBlockTokens),
      replica: this.#routers.replicaFor(request),
      routed: null,
      job: null,
      prefillMember: null,
      queuedAt: this.#now,
      prefillStartMs: NaN,
      firstTokenMs: NaN,
      migrations: 0,
      preemptions: 0,
    };
    this.#inFlight++;
    // Waiting requests had their turn when capacity last freed; a newcomer that fits goes.
    if (!this.#dispatch(f)) this.#enqueueAtRouter(f);
  }

  /** Routes and sends `f` on; false when no endpoint has capacity. */
  #dispatch(f: InFlight): boolean {
    const routed = this.#routerOf(f).route(f.request, this.#now, f.engineRequest.prefixBlocks);
    if (!routed) return false;
    f.routed = routed;
    const { prefill, decode, disaggregated } = routed.decision;
    const members = this.run.fleet.members;
    f.prefillMember = members[prefill];
    const job = newJob(f.engineRequest, disaggregated ? "prefill" : "full", f);
    f.job = job;
    this.metrics.gpus[prefill].prefills++;
    if (!disaggregated) this.metrics.gpus[decode].decodes++;
    this.#push({
      kind: "deliver",
      time: this.#now + this.run.config.router.dispatchLatencyMs,
      engine: prefill,
      job,
      releaseFrom: -1,
    });
    return true;
  }

  #routerOf(f: InFlight): SimRouter {
    return this.#routers.routers[f.replica];
  }

  #enqueueAtRouter(f: InFlight): void {
    this.#routerQueue.push(f);
    if (this.#routerQueue.length === 1) {
      this.#queue.set(this.#deadlineKey, f.queuedAt + this.run.config.router.queueTimeoutMs);
    }
  }

  /**
   * Retries the router queue in arrival order; sheds requests that waited past the timeout.
   * No head-of-line blocking: a request that does not fit leaves the ones behind it free to
   * go. A request needs no try once one with no longer a prompt failed in this pass (its KV
   * cannot fit either: the output estimate is the same for both).
   */
  #drainRouterQueue(): void {
    const timeout = this.run.config.router.queueTimeoutMs;
    const queue = this.#routerQueue;
    let kept = 0;
    let failedAt = Infinity;
    for (let i = 0; i < queue.length; i++) {
      const f = queue[i];
      // The same expression as the scheduled deadline, so float rounding cannot skip it.
      if (this.#now >= f.queuedAt + timeout) {
        this.#interval.sheds++;
        this.#finish(f, "shed");
        continue;
      }
      if (f.request.promptTokens < failedAt && this.#dispatch(f)) continue;
      if (f.request.promptTokens < failedAt) failedAt = f.request.promptTokens;
      queue[kept++] = f;
    }
    queue.length = kept;
    if (kept > 0) this.#queue.set(this.#deadlineKey, queue[0].queuedAt + timeout);
  }

  // ---- EngineListener ----

  schedule(engine: Engine, time: number): void {
    this.#queue.set(engine.id, time);
  }

  prefillStarted(_engine: Engine, job: Job, now: number): void {
    const f = flightOf(job);
    if (Number.isNaN(f.prefillStartMs)) f.prefillStartMs = now;
  }

  prefillDone(engine: Engine, job: Job, now: number): void {
    const f = flightOf(job);
    this.#routerOf(f).prefillDone(f.routed!);
    // Disaggregated: ship the KV to the decode engine; the prefill engine holds it until then.
    const to = this.run.fleet.members[f.routed!.decodeEndpoint];
    const from = this.run.fleet.members[engine.id];
    this.metrics.gpus[to.index].decodes++;
    const ms = transferMs(this.run.config, this.run.fleet, from, to, job.request.promptTokens);
    this.#push({ kind: "deliver", time: now + ms, engine: to.index, job, releaseFrom: engine.id });
  }

  firstToken(_engine: Engine, job: Job, now: number): void {
    const f = flightOf(job);
    f.firstTokenMs = now;
    const router = this.#routerOf(f);
    const remaining = Math.max(1, router.outputEstimate(f.request) - 1);
    router.firstToken(f.routed!, job.request.id, now, remaining);
    if (f.routed!.slot >= 0) this.#bySlot[f.replica][f.routed!.slot] = f;
  }

  finished(_engine: Engine, job: Job, now: number): void {
    const f = flightOf(job);
    this.#now = Math.max(this.#now, now);
    this.#finish(f, "ok", now);
    this.#interval.completed++;
    if (this.#routerQueue.length > 0) this.#drainRouterQueue();
  }

  removed(engine: Engine, job: Job, now: number): void {
    const f = flightOf(job);
    const to = this.run.fleet.members[f.routed!.decodeEndpoint];
    const from = this.run.fleet.members[engine.id];
    job.phase = "decode";
    const ms = transferMs(
      this.run.config,
      this.run.fleet,
      from,
      to,
      job.request.promptTokens + job.generated,
    );
    this.#push({ kind: "deliver", time: now + ms, engine: to.index, job, releaseFrom: -1 });
  }

  preempted(_engine: Engine, job: Job): void {
    flightOf(job).preemptions++;
  }

  rejected(_engine: Engine, job: Job, now: number, _reason: string): void {
    const f = flightOf(job);
    this.#finish(f, "rejected", now);
  }

  prefixChanged(engine: Engine, added: readonly number[], evicted: readonly number[]): void {
    this.#routers.engineChanged(engine.id, added, evicted);
  }

  // ---- bookkeeping ----

  #finish(f: InFlight, status: "ok" | "shed" | "rejected", at = this.#now): void {
    const req = f.request;
    const routed = f.routed;
    const ok = status === "ok";
    const ttft = ok ? f.firstTokenMs - req.arrivalMs : 0;
    const tpot = ok && req.outputTokens > 1 ? (at - f.firstTokenMs) / (req.outputTokens - 1) : 0;
    if (routed) {
      const router = this.#routerOf(f);
      if (routed.slot >= 0) this.#bySlot[f.replica][routed.slot] = undefined;
      if (ok) router.finished(routed, req.outputTokens, tpot, at);
      else router.abandoned(routed);
    }
    const outcome: RequestOutcome = {
      id: req.id,
      arrivalMs: req.arrivalMs,
      promptTokens: req.promptTokens,
      outputTokens: req.outputTokens,
      cachedTokens: f.job?.cachedTokens ?? 0,
      prefillGpu: routed ? this.run.fleet.members[routed.decision.prefill].gpu : -1,
      decodeGpu: routed ? this.run.fleet.members[routed.decodeEndpoint].gpu : -1,
      prefillPool: f.prefillMember?.pool ?? "none",
      disaggregated: routed?.decision.disaggregated ?? false,
      status,
      queueMs: Number.isNaN(f.prefillStartMs)
        ? at - req.arrivalMs
        : f.prefillStartMs - req.arrivalMs,
      ttftMs: ttft,
      tpotMs: tpot,
      e2eMs: at - req.arrivalMs,
      migrations: f.migrations,
      preemptions: f.preemptions,
    };
    this.metrics.record(outcome);
    this.run.requestsCsv?.write(requestCsvRow(outcome));
    this.#inFlight--;
    this.#completedTotal++;
  }

  /** Replica `k` plans moves of the sequences it routed. */
  #planReplica(k: number): void {
    const router = this.#routers.routers[k];
    const bySlot = this.#bySlot[k];
    // Refresh what the planner believes each decoding request still has to generate.
    for (const f of bySlot) {
      if (!f?.job || !f.routed) continue;
      const engine = this.#engines[f.routed.decodeEndpoint];
      const seen = f.job.generated +
        (f.job.heapIndex >= 0 ? engine.tokenClock - f.job.joinClock : 0);
      router.updateRemaining(f.routed, Math.max(1, router.outputEstimate(f.request) - seen));
    }
    for (const move of router.planMigrations(this.#now)) {
      const f = bySlot[move.sequence]!;
      const id = f.request.id;
      const engine = this.#engines[move.from];
      const job = f.job!;
      if (
        job.heapIndex < 0 || job.removeAtBoundary || engine.running.items[job.heapIndex] !== job
      ) {
        bySlot[move.sequence] = undefined;
        router.undoMove(
          f.routed!,
          move,
          Math.max(1, router.outputEstimate(f.request) - job.generated),
          id,
        );
        bySlot[f.routed!.slot] = f;
        continue;
      }
      f.routed!.decodeEndpoint = move.to;
      f.migrations++;
      this.#interval.migrations++;
      engine.requestRemoval(job, this.#now);
    }
  }

  /** What a metrics scrape of every engine reads (vLLM's waiting and running counts, KV usage). */
  #scrape(): void {
    for (const m of this.run.fleet.members) {
      const e = this.#engines[m.index];
      for (const router of this.#routers.routers) {
        router.scraped(
          m.index,
          e.waiting.length,
          e.running.size + e.prefilling.length,
          e.kvTokens / e.config.gpuKvTokens,
          this.#now,
        );
      }
    }
  }

  #sample(): void {
    const t = round3(this.#now);
    const timeline = this.run.timelineCsv;
    for (const m of this.run.fleet.members) {
      const e = this.#engines[m.index];
      const g = this.metrics.gpus[m.index];
      // Queue depth: requests here that have not produced a token yet (waiting or in prefill).
      const waiting = e.waiting.length + e.prefilling.length;
      const kvUsage = e.kvTokens / e.config.gpuKvTokens;
      g.queueDepthSum += waiting;
      g.queueDepthMax = Math.max(g.queueDepthMax, waiting);
      g.kvUsageSum += kvUsage;
      g.samples++;
      timeline?.write([
        t,
        m.gpu,
        csvField(m.pool),
        e.waiting.length,
        e.prefilling.length,
        e.running.size,
        round3(kvUsage),
        e.queuedPrefillTokens,
        0,
        0,
        0,
        0,
      ].join(","));
    }
    const i = this.#interval;
    timeline?.write(
      [
        t,
        -1,
        "cluster",
        0,
        0,
        0,
        0,
        0,
        i.completed,
        i.migrations,
        i.sheds,
        this.#routerQueue.length,
      ].join(","),
    );
    this.#interval = { completed: 0, migrations: 0, sheds: 0 };
    this.run.onProgress?.(this.#now, this.#completedTotal);
  }
}
