/**
 * One inference engine (one GPU or TP group) under continuous batching, vLLM-style:
 *
 * - Each step every running sequence decodes one token, and the rest of the token budget goes
 *   to prefill chunks of admitted requests in arrival order (chunked prefill).
 * - Admission is first-come first-served and needs KV room for the whole prompt; KV grows by
 *   one token per running sequence per step; when it would overflow GPU memory plus the host
 *   slab, the most recently admitted sequence is preempted and recomputed later.
 * - Prefix-cache hits skip the cached leading blocks of a prompt. The cache is a fixed LRU or
 *   shares the KV pool with the sequences, as vLLM's does (src/engine_model/prefix_pool.ts).
 *
 * Decode-only stretches run as one event (a span of steps up to the next finish or KV limit),
 * so cost does not grow with batch size per step. Anything that arrives mid-span cuts the span
 * at the end of the step in progress, exactly when a real engine would next schedule.
 */
import type { TimeModel } from "./time_model.ts";
import { FinishHeap } from "./finish_heap.ts";
import type { Job } from "./job.ts";
import type { PrefixCache } from "./prefix_cache.ts";
import { type PrefixCachePool, PrefixPool } from "./prefix_pool.ts";

export interface EngineConfig {
  readonly maxNumSeqs: number;
  /** Tokens per step (decode tokens + prefill chunks). Infinity disables chunking. */
  readonly maxBatchedTokens: number;
  /** KV tokens that fit in GPU memory. */
  readonly gpuKvTokens: number;
  /** Extra KV tokens in the pinned host slab (slower per step). */
  readonly slabKvTokens: number;
  /**
   * Prefix-cache capacity in prefix blocks (0 disables it): the cache's size when reserved;
   * when shared, what routers assume it holds (the cache itself then lives in free KV).
   */
  readonly prefixCacheBlocks: number;
  readonly prefixBlockTokens: number;
  /** Whether the prefix cache shares the GPU KV pool with the sequences (prefix_pool.ts). */
  readonly prefixCachePool: PrefixCachePool;
  /**
   * Longest decode span in steps (default 1024). The emulator sets 1: it streams every step's
   * tokens as they happen, so it needs an event per step.
   */
  readonly maxSpanSteps?: number;
}

/** What the engine tells the simulation. Called synchronously at step boundaries. */
export interface EngineListener {
  /** Prefill of `job` started (its queue wait ends). */
  prefillStarted(engine: Engine, job: Job, now: number): void;
  /** The first output token of the request exists (a local prefill or a first decode step). */
  firstToken(engine: Engine, job: Job, now: number): void;
  /** A `prefill`-phase job finished prefilling; its KV waits here until `releaseKv`. */
  prefillDone(engine: Engine, job: Job, now: number): void;
  finished(engine: Engine, job: Job, now: number): void;
  /** A job flagged `removeAtBoundary` (migrated or aborted) left; its KV is released here. */
  removed(engine: Engine, job: Job, now: number): void;
  preempted(engine: Engine, job: Job): void;
  /** The job can never run here (its KV exceeds the engine's whole capacity). */
  rejected(engine: Engine, job: Job, now: number, reason: string): void;
  /** Prefix blocks became resident here / were evicted from here. */
  prefixChanged(engine: Engine, added: readonly number[], evicted: readonly number[]): void;
  /** The engine needs a wake-up at `time` (a step or span end). Replaces earlier requests. */
  schedule(engine: Engine, time: number): void;
}

const NO_BLOCKS: readonly number[] = Object.freeze([]);

/** Longest decode span (default of `maxSpanSteps`). */
const MAX_SPAN_STEPS = 1024;
/**
 * A span records its start time of every MARK_STEPS-th step, so cutting it replays at most
 * MARK_STEPS steps from the last mark before the cut instead of the whole span, with the very
 * same float additions (so the same times).
 */
const MARK_STEPS = 32;

export class Engine {
  readonly waiting: Job[] = [];
  readonly prefilling: Job[] = [];
  readonly running = new FinishHeap<Job>();
  readonly #prefix: PrefixPool;
  /** Decode steps executed so far. */
  tokenClock = 0;
  /** KV tokens held by admitted prefills and by finished prefills awaiting transfer. */
  #heldKv = 0;
  // Running sequences' KV = sumKvAtJoin + running * tokenClock - sumJoinClock, kept in O(1).
  #sumKvAtJoin = 0;
  #sumJoinClock = 0;
  #admitted = 0;
  #busyUntil = -Infinity;
  // The current span (fields, not an object per span): its steps (0: not in a span), its end
  // (its start is the first mark), and the batch, decode KV and held KV at its start.
  #spanSteps = 0;
  #spanEnd = 0;
  #spanBatch = 0;
  #spanKv0 = 0;
  #spanHeld = 0;
  /** Start time of the span's steps 0, MARK_STEPS, 2 x MARK_STEPS, ... */
  readonly #marks: Float64Array;
  /** Running jobs flagged `removeAtBoundary` since the last plan (0: nothing to scan for). */
  #flagged = 0;
  /** Whether a mixed step is in progress. */
  #inStep = false;
  /** Jobs of the mixed step in progress with the prefill tokens each gets. */
  #chunks: Job[] = [];
  #chunkTokens: number[] = [];
  /** Sequences that joined with KV from elsewhere and have not produced a token here yet. */
  #awaitingFirstStep: Job[] = [];
  preemptions = 0;
  /** Cumulative busy time (ms), for utilisation. */
  busyMs = 0;

  constructor(
    readonly id: number,
    readonly time: TimeModel,
    readonly config: EngineConfig,
    private readonly listener: EngineListener,
  ) {
    this.#prefix = new PrefixPool(config);
    const maxSteps = config.maxSpanSteps ?? MAX_SPAN_STEPS;
    this.#marks = new Float64Array(Math.ceil(maxSteps / MARK_STEPS) + 1);
  }

  get prefixCache(): PrefixCache {
    return this.#prefix.cache;
  }

  get idle(): boolean {
    return this.#spanSteps === 0 && !this.#inStep;
  }

  /** KV tokens in use right now (as of the last step boundary). */
  get kvTokens(): number {
    return this.#heldKv + this.#decodeKv();
  }

  get kvCapacityTokens(): number {
    return this.config.gpuKvTokens + this.config.slabKvTokens;
  }

  /** Prompt tokens waiting for or in prefill. */
  get queuedPrefillTokens(): number {
    let total = 0;
    for (const j of this.waiting) total += j.prefillRemaining;
    for (const j of this.prefilling) total += j.prefillRemaining;
    return total;
  }

  #decodeKv(): number {
    return this.#sumKvAtJoin + this.running.size * this.tokenClock - this.#sumJoinClock;
  }

  /** A job arrives (new request, transferred KV or migrated sequence). */
  enqueue(job: Job, now: number): void {
    this.waiting.push(job);
    this.#interrupt(now);
  }

  /** Asks for `job` (running here) to leave at the next step boundary. */
  requestRemoval(job: Job, now: number): void {
    job.removeAtBoundary = true;
    this.#flagged++;
    this.#interrupt(now);
  }

  /**
   * The client went away (vLLM aborts the request): a waiting job leaves at once, a prefilling
   * or running one at the next step boundary (then `removed` is called). Returns false if the
   * job is not here (finished, or a finished prefill whose KV the caller must `releaseKv`).
   */
  abort(job: Job, now: number): boolean {
    const at = this.waiting.indexOf(job);
    if (at >= 0) {
      this.waiting.splice(at, 1);
      return true;
    }
    if (job.heapIndex < 0 && !this.prefilling.includes(job)) return false;
    this.requestRemoval(job, now);
    return true;
  }

  /** KV of a finished `prefill` job was pulled by its decode engine: free it. */
  releaseKv(job: Job, now: number): void {
    this.#heldKv -= job.kvTokens;
    job.kvTokens = 0;
    this.#prefix.release(job);
    if (this.idle) this.#plan(now);
  }

  /** The wake-up requested through `listener.schedule` is due. */
  onWake(now: number): void {
    if (this.#inStep) this.#finishMixedStep(now);
    else if (this.#spanSteps > 0) this.#finishSpan(now, this.#spanSteps);
    this.#plan(now);
  }

  /** Something changed at `now`: cut a running span at the end of its step in progress. */
  #interrupt(now: number): void {
    if (this.idle) {
      // The engine may sit idle at a boundary in the past; it acts now.
      this.#plan(Math.max(now, this.#busyUntil));
      return;
    }
    const steps = this.#spanSteps;
    if (steps === 0) return; // a mixed step is short; it will be seen when it ends
    const batch = this.#spanBatch, kv0 = this.#spanKv0, held = this.#spanHeld;
    // Replay from the last mark at or before `now` (every step before it ended by then).
    const marks = this.#marks;
    let lo = 0, hi = Math.floor((steps - 1) / MARK_STEPS);
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (marks[mid] <= now) lo = mid;
      else hi = mid - 1;
    }
    let t = marks[lo];
    for (let i = lo * MARK_STEPS; i < steps; i++) {
      t += this.#decodeStepMs(batch, kv0 + i * batch, held);
      if (t > now) {
        if (i + 1 < steps) {
          this.busyMs -= this.#spanEnd - t;
          this.#spanSteps = i + 1;
          this.#spanEnd = t;
          this.#busyUntil = t;
          this.listener.schedule(this, t);
        }
        return;
      }
    }
  }

  #decodeStepMs(batch: number, decodeKv: number, held: number): number {
    const total = decodeKv + held;
    const slab = Math.max(0, total - this.config.gpuKvTokens);
    return this.time.stepMs({
      prefillTokens: 0,
      prefillAttentionFlops: 0,
      decodeSeqs: batch,
      decodeKvTokens: decodeKv,
      slabKvTokens: Math.min(slab, decodeKv),
    });
  }

  #finishSpan(now: number, steps: number): void {
    this.#spanSteps = 0;
    this.tokenClock += steps;
    this.#completeFinished(now);
  }

  /** Pops every sequence whose last token was produced by the step just ended. */
  #completeFinished(now: number): void {
    while (this.running.topFinishClock <= this.tokenClock) {
      const top = this.running.peek()!;
      this.#leaveRunning(top);
      top.generated = top.request.outputTokens;
      this.listener.finished(this, top, now);
    }
  }

  #leaveRunning(job: Job): void {
    this.running.remove(job);
    this.#sumKvAtJoin -= job.kvTokens;
    this.#sumJoinClock -= job.joinClock;
    // What it generated here is now part of its KV, should it decode elsewhere.
    job.generated += this.tokenClock - job.joinClock;
    job.kvTokens = 0;
    this.#prefix.release(job);
  }

  #joinRunning(job: Job, kvTokens: number): void {
    job.joinClock = this.tokenClock;
    job.kvTokens = kvTokens;
    job.finishClock = this.tokenClock + (job.request.outputTokens - job.generated);
    job.admitOrder = this.#admitted++;
    this.#sumKvAtJoin += kvTokens;
    this.#sumJoinClock += job.joinClock;
    this.running.push(job);
  }

  #finishMixedStep(now: number): void {
    const chunks = this.#chunks, tokens = this.#chunkTokens;
    this.#inStep = false;
    this.tokenClock += 1;
    for (let i = 0; i < chunks.length; i++) {
      const job = chunks[i];
      job.prefillRemaining -= tokens[i];
      if (job.prefillRemaining > 0) continue;
      this.prefilling.splice(this.prefilling.indexOf(job), 1);
      this.#heldKv -= job.kvTokens;
      this.#cacheBlocks(job);
      if (job.phase === "prefill") {
        this.#heldKv += job.kvTokens; // held until the decode engine pulls it
        this.listener.prefillDone(this, job, now);
        continue;
      }
      // The prefill's last step produced a token: the first, or the next one after a recompute.
      job.generated += 1;
      if (!job.firstTokenDone) {
        job.firstTokenDone = true;
        this.listener.firstToken(this, job, now);
      }
      job.kvTokens = 0;
      if (job.generated >= job.request.outputTokens) {
        this.#prefix.release(job);
        this.listener.finished(this, job, now);
        continue;
      }
      this.#joinRunning(job, job.request.promptTokens + job.generated);
    }
    this.#completeFinished(now);
  }

  #cacheBlocks(job: Job): void {
    const change = this.#prefix.store(job);
    if (change) this.listener.prefixChanged(this, change.added, change.evicted);
  }

  /** A shared pool gives up the free cached blocks that the KV now in use needs. */
  #fitPrefixCache(): void {
    const evicted = this.#prefix.fit(this.kvTokens);
    if (evicted.length > 0) this.listener.prefixChanged(this, NO_BLOCKS, evicted);
  }

  /** Removes flagged jobs, preempts if KV is short, admits, and starts the next step or span. */
  #plan(now: number): void {
    this.#removeFlagged(now);
    this.#admit(now);
    if (this.prefilling.length === 0 && this.running.size === 0) {
      this.#busyUntil = now;
      return;
    }
    // Every running sequence grows by one token per step: make room or preempt. A preempted
    // job goes back to the waiting queue: if that emptied the engine, admission runs again (the
    // job may fit alone, or never fit, which admission rejects); otherwise the engine would sit
    // idle with a waiting queue that nothing wakes.
    let preempted = false;
    while (this.running.size > 0 && this.kvTokens + this.running.size > this.kvCapacityTokens) {
      this.#preemptNewest();
      preempted = true;
    }
    if (preempted && this.running.size === 0 && this.prefilling.length === 0) this.#admit(now);
    if (this.prefilling.length > 0) this.#startMixedStep(now);
    else if (this.running.size > 0) this.#startSpan(now);
    else this.#busyUntil = now;
  }

  #removeFlagged(now: number): void {
    // Only the emulator flags prefilling jobs (aborts); their held prompt KV goes with them.
    for (let i = this.prefilling.length - 1; i >= 0; i--) {
      const job = this.prefilling[i];
      if (!job.removeAtBoundary) continue;
      job.removeAtBoundary = false;
      this.prefilling.splice(i, 1);
      this.#heldKv -= job.kvTokens;
      job.kvTokens = 0;
      this.#prefix.release(job);
      this.listener.removed(this, job, now);
    }
    if (this.#flagged === 0) return;
    this.#flagged = 0;
    for (const job of [...this.running.items]) {
      if (!job.removeAtBoundary) continue;
      job.removeAtBoundary = false;
      this.#leaveRunning(job);
      this.listener.removed(this, job, now);
    }
  }

  #admit(now: number): void {
    // KV grew since the last boundary (decode tokens): the shared pool's cache shrinks first.
    this.#fitPrefixCache();
    while (this.waiting.length > 0) {
      const job = this.waiting[0];
      // KV for the prompt and everything generated so far (a recompute or a transferred job).
      const need = job.request.promptTokens + job.generated;
      if (need + 1 > this.kvCapacityTokens) {
        this.waiting.shift();
        this.listener.rejected(
          this,
          job,
          now,
          `needs ${need} KV tokens, engine holds ${this.kvCapacityTokens}`,
        );
        continue;
      }
      if (this.running.size + this.prefilling.length >= this.config.maxNumSeqs) return;
      if (this.kvTokens + need > this.kvCapacityTokens) return;
      this.waiting.shift();
      if (job.phase === "decode") {
        this.#cacheBlocks(job);
        this.#joinRunning(job, need);
        this.#fitPrefixCache();
        if (!job.firstTokenDone) this.#awaitingFirstStep.push(job);
        continue;
      }
      const hits = this.#prefix.hits(job);
      // At least one token is always computed (it yields the next token's logits).
      job.cachedTokens = Math.max(
        0,
        Math.min(job.prefillRemaining - 1, hits * this.config.prefixBlockTokens),
      );
      job.prefillRemaining -= job.cachedTokens;
      job.kvTokens = need;
      this.#heldKv += need;
      this.#fitPrefixCache();
      this.prefilling.push(job);
      this.listener.prefillStarted(this, job, now);
    }
  }

  /** Sequences that joined with transferred KV get their first token from the step starting now. */
  #firstStepEndsAt(end: number): void {
    for (const job of this.#awaitingFirstStep) {
      if (job.heapIndex < 0 || job.firstTokenDone) continue; // left before its first step
      job.firstTokenDone = true;
      this.listener.firstToken(this, job, end);
    }
    // A fresh array only when needed (emptying one in place costs V8 more than allocating).
    if (this.#awaitingFirstStep.length > 0) this.#awaitingFirstStep = [];
  }

  #preemptNewest(): void {
    let newest: Job | undefined;
    for (const job of this.running.items) {
      if (!newest || job.admitOrder > newest.admitOrder) newest = job;
    }
    const job = newest!;
    this.#leaveRunning(job);
    // Recompute mode: the prompt and everything generated so far must be prefilled again.
    job.phase = "full";
    job.prefillRemaining = job.request.promptTokens + job.generated;
    this.waiting.unshift(job);
    this.preemptions++;
    this.listener.preempted(this, job);
  }

  #startMixedStep(now: number): void {
    const batch = this.running.size;
    let budget = this.config.maxBatchedTokens - batch;
    // Fresh arrays per step: a step that a listener callback starts while the last one's chunks
    // are being walked must not write into them.
    const chunks: Job[] = [], tokens: number[] = [];
    let prefillTokens = 0, attention = 0;
    for (const job of this.prefilling) {
      if (budget <= 0) break;
      const chunk = Math.min(job.prefillRemaining, budget);
      const done = job.request.promptTokens + job.generated - job.prefillRemaining;
      chunks.push(job);
      tokens.push(chunk);
      prefillTokens += chunk;
      attention += this.time.chunkAttentionFlops(chunk, done);
      budget -= chunk;
    }
    const decodeKv = this.#decodeKv();
    const slab = Math.max(0, this.kvTokens - this.config.gpuKvTokens);
    const ms = this.time.stepMs({
      prefillTokens,
      prefillAttentionFlops: attention,
      decodeSeqs: batch,
      decodeKvTokens: decodeKv,
      slabKvTokens: Math.min(slab, decodeKv),
    });
    this.#chunks = chunks;
    this.#chunkTokens = tokens;
    this.#inStep = true;
    this.#busyUntil = now + ms;
    this.busyMs += ms;
    this.#firstStepEndsAt(now + ms);
    this.listener.schedule(this, now + ms);
  }

  #startSpan(now: number): void {
    const batch = this.running.size;
    const kv0 = this.#decodeKv();
    const held = this.#heldKv;
    const untilFinish = this.running.topFinishClock - this.tokenClock;
    const room = Math.floor((this.kvCapacityTokens - this.kvTokens) / batch);
    const maxSteps = this.config.maxSpanSteps ?? MAX_SPAN_STEPS;
    const steps = Math.max(1, Math.min(untilFinish, room, maxSteps));
    const marks = this.#marks;
    let t = now;
    for (let i = 0; i < steps; i++) {
      if (i % MARK_STEPS === 0) marks[i / MARK_STEPS] = t;
      t += this.#decodeStepMs(batch, kv0 + i * batch, held);
      if (i === 0) this.#firstStepEndsAt(t);
    }
    this.#spanSteps = steps;
    this.#spanEnd = t;
    this.#spanBatch = batch;
    this.#spanKv0 = kv0;
    this.#spanHeld = held;
    this.#busyUntil = t;
    this.busyMs += t - now;
    this.listener.schedule(this, t);
  }
}
