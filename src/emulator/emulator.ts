/**
 * `pdroute emulate`: a test double for one `vllm serve` instance. It speaks vLLM's HTTP surface
 * (completions and chat, SSE streams, usage, `/v1/models`, `/metrics` under vLLM's names,
 * `/health`, NixlConnector `kv_transfer_params` for prefill and decode) and times every token
 * with the simulator's engine model (continuous batching, chunked prefill, KV capacity and
 * preemption, prefix cache) in real time. It computes nothing: its text is filler.
 *
 * P/D handoff, as a vLLM instance with `kv_role: kv_both` does it:
 * - a request with `kv_transfer_params.do_remote_decode: true` only prefills; the answer (one
 *   token, never streamed) carries `kv_transfer_params` naming this engine, the KV block ids
 *   and where to pull them; the KV stays held until pulled (or `kvHoldTimeoutMs`).
 * - a request with `kv_transfer_params.do_remote_prefill: true` pulls that KV from the named
 *   instance (the emulator's stand-in for the NIXL read is `POST /emulator/kv/pull` on
 *   `remote_host:remote_port`, its HTTP port), waits the modelled transfer time, then decodes.
 *   If the pull fails (unknown, expired or already pulled blocks) it recomputes the prompt
 *   locally, as vLLM's `kv_load_failure_policy: recompute` does, and counts it.
 */
import { Engine, type EngineListener } from "../engine_model/engine.ts";
import { type Job, newJob } from "../engine_model/job.ts";
import { type EngineSetup, KV_BLOCK_TOKENS, setupEngine } from "../engine_model/setup.ts";
import { errorResponse, sseErrorEvent } from "../openai/errors.ts";
import { prefixBlockIds } from "../openai/prefix_blocks.ts";
import {
  type Api,
  BadRequest,
  maxTokensOf,
  parseRequestBody,
  type RequestBody,
} from "../openai/request.ts";
import { SSE_DONE } from "../openai/sse.ts";
import { estimateTokens, promptText } from "../openai/tokens.ts";
import type { SimRequest } from "../workload/request.ts";
import { Rng } from "../workload/rng.ts";
import { PREFIX_BLOCK_TOKENS } from "../workload/synthetic.ts";
import {
  type EmulatorOptions,
  type EmulatorOptionsInput,
  type Faults,
  resolveEmulatorOptions,
} from "./options.ts";
import { RealtimeClock, RealtimeDriver } from "./realtime_engine.ts";
import { ChunkWriter, completeResponse, usage } from "./responses.ts";
import { VllmMetrics } from "./vllm_metrics.ts";

/** A completion request as it arrived (for tests that check what the router sent). */
export interface ReceivedRequest {
  readonly path: string;
  readonly requestId: string | null;
  readonly body: Record<string, unknown>;
}

type Mode = "stream" | "json" | "prefill";

interface Live {
  readonly id: string;
  readonly api: Api;
  readonly job: Job;
  readonly mode: Mode;
  readonly arrivalWall: number;
  readonly writer: ChunkWriter | null;
  /** Cut the response after this many tokens (truncation fault), else Infinity. */
  readonly truncateAfter: number;
  sent: number;
  firstWall: number;
  lastWall: number;
  done: boolean;
  controller: ReadableStreamDefaultController<Uint8Array> | null;
  resolve: ((r: Response) => void) | null;
  /** Pending KV transfer before a decode job can be enqueued. */
  transferTimer: ReturnType<typeof setTimeout> | undefined;
  /** Decode requests: the remote KV to pull, and KV tokens reserved here while pulling. */
  remote: Record<string, unknown> | null;
  reservedKv: number;
}

interface Held {
  readonly job: Job;
  readonly timer: ReturnType<typeof setTimeout>;
}

const encoder = new TextEncoder();

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An error the emulator raises on purpose (a fault knob); not worth a log line. */
class EmulatedFault extends Error {
  override name = "EmulatedFault";
}

/** A response whose body fails at once: the client sees the connection break. */
function brokenResponse(): Response {
  return new Response(
    new ReadableStream({ start: (c) => c.error(new EmulatedFault("emulated engine failure")) }),
  );
}

export class Emulator implements EngineListener {
  readonly options: EmulatorOptions;
  /** Mutable at run time (tests flip faults on and off). */
  readonly faults: Faults;
  readonly setup: EngineSetup;
  readonly engine: Engine;
  readonly clock: RealtimeClock;
  readonly metrics: VllmMetrics;
  readonly received: ReceivedRequest[] = [];
  readonly engineId = crypto.randomUUID();
  readonly #driver: RealtimeDriver;
  readonly #live = new Map<Job, Live>();
  readonly #held = new Map<string, Held>();
  readonly #stalled = new Set<() => void>();
  /** Decode requests waiting for KV room before they pull (vLLM allocates blocks first). */
  readonly #parked: Live[] = [];
  /** KV tokens reserved by pulls and transfers in progress. */
  #reservedKv = 0;
  #pulling = 0;
  readonly #rng: Rng;
  #server: Deno.HttpServer<Deno.NetAddr> | null = null;
  #requests = 0;
  #nextId = 0;
  #nextBlock = 0;
  #dead = false;

  constructor(input: EmulatorOptionsInput = {}) {
    this.options = resolveEmulatorOptions(input);
    this.faults = { ...this.options.faults };
    this.#rng = new Rng(this.options.seed);
    this.setup = setupEngine({
      model: this.options.model,
      gpu: this.options.gpu,
      tensorParallel: this.options.tensorParallel,
      engine: this.options.engine,
      prefixBlockTokens: PREFIX_BLOCK_TOKENS,
      slabLinkGbps: this.options.kvLink.gbps,
    });
    this.clock = new RealtimeClock(this.options.speed);
    this.#driver = new RealtimeDriver(this.clock, () => this.engine, () => this.#flush());
    // One step per event: every step's tokens are streamed when that step ends.
    this.engine = new Engine(0, this.setup.time, { ...this.setup.engine, maxSpanSteps: 1 }, this);
    this.metrics = new VllmMetrics(this.options.servedModelName, {
      running: () => this.engine.running.size + this.engine.prefilling.length,
      waiting: () => this.engine.waiting.length + this.#parked.length,
      kvUsage: () => Math.min(1, this.engine.kvTokens / this.engine.config.gpuKvTokens),
    }, this.options.legacyMetricNames);
  }

  get port(): number {
    if (!this.#server) throw new Error("emulator is not listening; call listen() first");
    return this.#server.addr.port;
  }

  get url(): string {
    return `http://${this.options.host}:${this.port}`;
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** Requests currently inside the emulator (queued, transferring, running or held). */
  get inFlight(): number {
    return this.#live.size;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.#server = Deno.serve({
          hostname: this.options.host,
          port: this.options.port,
          onListen: () => resolve(),
          onError: (e) => {
            if (!(e instanceof EmulatedFault)) {
              console.error(`pdroute emulate: request failed: ${(e as Error).message}`);
            }
            return errorResponse(500, `emulator error: ${(e as Error).message}`, "server_error");
          },
        }, (req) => this.handle(req));
      } catch (e) {
        reject(
          new Error(
            `cannot listen on ${this.options.host}:${this.options.port}: ${(e as Error).message}`,
          ),
        );
      }
    });
  }

  /** Graceful stop: in-flight requests are ended with an error, then the port closes. */
  async close(): Promise<void> {
    this.#endAll("emulator shutting down");
    await this.#server?.shutdown();
  }

  /** The engine dies: streams break mid-way, pending answers fail, the port closes. */
  die(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#endAll(null);
    void this.#server?.shutdown();
  }

  #endAll(message: string | null): void {
    this.#driver.close();
    for (const live of [...this.#live.values()]) {
      if (message === null) this.#break(live);
      else this.#fail(live, message);
    }
    for (const held of this.#held.values()) clearTimeout(held.timer);
    this.#held.clear();
    for (const release of this.#stalled) release();
    this.#stalled.clear();
  }

  async handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (this.#dead) return brokenResponse();
    if (req.method === "GET") {
      if (path === "/health") return new Response(null, { status: 200 });
      if (path === "/v1/models") return Response.json(this.#models());
      if (path === "/metrics") return await this.#metricsResponse();
      if (path === "/version") return Response.json({ version: "pdroute-emulator" });
    }
    if (req.method === "POST") {
      if (path === "/v1/completions") return await this.#complete(req, path, "completions");
      if (path === "/v1/chat/completions") return await this.#complete(req, path, "chat");
      if (path === "/emulator/kv/pull") return await this.#pull(req);
    }
    return Response.json({ detail: "Not Found" }, { status: 404 });
  }

  #models() {
    return {
      object: "list",
      data: [{
        id: this.options.servedModelName,
        object: "model",
        created: Math.floor(Date.now() / 1000),
        owned_by: "vllm",
        root: this.setup.model.name,
        parent: null,
        max_model_len: this.options.maxModelLen,
      }],
    };
  }

  async #metricsResponse(): Promise<Response> {
    const fault = this.faults.brokenMetrics;
    if (fault === "error") {
      return new Response("metrics exporter crashed (emulated fault)\n", { status: 500 });
    }
    if (fault === "garbage") {
      return new Response("<html><body>502 Bad Gateway {{{ not prometheus</body></html>\n", {
        headers: { "content-type": "text/plain; version=0.0.4" },
      });
    }
    return new Response(await this.metrics.text(), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    });
  }

  async #complete(req: Request, path: string, api: Api): Promise<Response> {
    let body: RequestBody;
    try {
      body = parseRequestBody(await req.text(), api);
    } catch (e) {
      if (e instanceof BadRequest) {
        return errorResponse(400, e.message, "invalid_request_error", { param: e.param });
      }
      throw e;
    }
    const requestId = req.headers.get("x-request-id");
    this.received.push({ path, requestId, body });
    if (this.received.length > 10_000) this.received.splice(0, 5_000);
    if (body.model !== this.options.servedModelName) {
      return errorResponse(
        404,
        `The model \`${body.model}\` does not exist.`,
        "not_found_error",
        { param: "model" },
      );
    }
    if ((body.n ?? 1) !== 1) {
      return errorResponse(
        400,
        `the emulator serves n=1 only: current value is ${body.n}`,
        "invalid_request_error",
        { param: "n" },
      );
    }
    // Fault knobs, in a fixed order so a seed reproduces the same faults.
    const f = this.faults;
    this.#requests++;
    if (f.dieAfter > 0 && this.#requests > f.dieAfter) {
      this.die();
      return brokenResponse();
    }
    if (f.extraLatencyMs > 0) await delay(f.extraLatencyMs);
    if (this.#dead) return brokenResponse();
    // A client that went away during the extra latency is not admitted (nothing runs for it).
    if (req.signal.aborted) return brokenResponse();
    const drawError = this.#rng.float(), drawStall = this.#rng.float();
    const drawTruncate = this.#rng.float();
    if (drawError < f.errorRate) {
      return errorResponse(500, "emulated engine error (fault: errorRate)", "server_error");
    }
    if (drawStall < f.stallRate) return this.#stall(req);
    return this.#admit(req, api, body, requestId, drawTruncate < f.truncateRate);
  }

  /** Accepted, never answered: resolves only when the client gives up or the emulator stops. */
  #stall(req: Request): Promise<Response> {
    return new Promise((resolve) => {
      const release = () => {
        this.#stalled.delete(release);
        resolve(brokenResponse());
      };
      this.#stalled.add(release);
      req.signal.addEventListener("abort", release, { once: true });
    });
  }

  #admit(
    req: Request,
    api: Api,
    body: RequestBody,
    requestId: string | null,
    truncate: boolean,
  ): Response | Promise<Response> {
    const text = promptText(body, api);
    const promptTokens = Math.max(1, estimateTokens(text));
    const maxTokens = maxTokensOf(body) ?? this.options.defaultMaxTokens;
    if (promptTokens + maxTokens > this.options.maxModelLen) {
      return errorResponse(
        400,
        `This model's maximum context length is ${this.options.maxModelLen} tokens. However, ` +
          `you requested ${
            promptTokens + maxTokens
          } tokens (${promptTokens} in the prompt, ${maxTokens} ` +
          `in the completion). Please reduce the length of the prompt or completion.`,
        "invalid_request_error",
      );
    }
    const kv = body.kv_transfer_params ?? null;
    const prefillOnly = kv?.do_remote_decode === true;
    const remotePrefill = kv?.do_remote_prefill === true;
    const stream = body.stream === true;
    if (prefillOnly && stream) {
      return errorResponse(
        400,
        "a prefill request (kv_transfer_params.do_remote_decode: true) must not stream: " +
          "current value of 'stream' is true",
        "invalid_request_error",
        { param: "stream" },
      );
    }
    if (remotePrefill) {
      const problem = checkRemoteParams(kv!);
      if (problem) {
        return errorResponse(400, problem, "invalid_request_error", {
          param: "kv_transfer_params",
        });
      }
    }
    const request: SimRequest = {
      id: this.#nextId++,
      arrivalMs: this.clock.now(),
      promptTokens,
      outputTokens: prefillOnly ? 1 : maxTokens,
      prefixBlocks: prefixBlockIds(text, PREFIX_BLOCK_TOKENS),
    };
    const phase = prefillOnly ? "prefill" : remotePrefill ? "decode" : "full";
    const job = newJob(request, phase);
    const mode: Mode = prefillOnly ? "prefill" : stream ? "stream" : "json";
    const prefix = api === "chat" ? "chatcmpl" : "cmpl";
    const id = `${prefix}-${requestId ?? `emu${request.id}`}`;
    const created = Math.floor(Date.now() / 1000);
    const includeUsage = body.stream_options?.include_usage === true;
    const live: Live = {
      id,
      api,
      job,
      mode,
      arrivalWall: performance.now(),
      writer: mode === "stream"
        ? new ChunkWriter(api, id, created, body.model, includeUsage)
        : null,
      truncateAfter: truncate ? Math.floor(maxTokens / 2) : Infinity,
      sent: 0,
      firstWall: NaN,
      lastWall: NaN,
      done: false,
      controller: null,
      resolve: null,
      transferTimer: undefined,
      remote: remotePrefill ? kv : null,
      reservedKv: 0,
    };
    this.#live.set(job, live);
    const headers = { "x-request-id": requestId ?? id };
    let response: Response | Promise<Response>;
    if (mode === "stream") {
      const streamBody = new ReadableStream<Uint8Array>({
        start: (c) => {
          live.controller = c;
        },
        cancel: () => this.#abort(live),
      });
      response = new Response(streamBody, {
        headers: {
          ...headers,
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
        },
      });
    } else {
      response = new Promise<Response>((resolve) => {
        live.resolve = resolve;
      });
      req.signal.addEventListener("abort", () => this.#abort(live), { once: true });
    }
    if (remotePrefill) {
      this.#parked.push(live);
      this.#unpark();
    } else {
      this.#enqueue(job);
    }
    return response;
  }

  #enqueue(job: Job): void {
    const now = this.#driver.catchUp();
    this.engine.enqueue(job, now);
    this.#flush();
  }

  // ---- KV handoff ----

  /** Starts the pulls of parked decode requests, in order, while KV room and seats last. */
  #unpark(): void {
    const e = this.engine;
    while (this.#parked.length > 0) {
      const live = this.#parked[0];
      if (live.done) {
        this.#parked.shift();
        continue;
      }
      const need = live.job.request.promptTokens + 1;
      const seats = e.running.size + e.prefilling.length + this.#pulling;
      if (e.waiting.length > 0 || seats >= e.config.maxNumSeqs) return;
      if (e.kvTokens + this.#reservedKv + need > e.kvCapacityTokens) return;
      this.#parked.shift();
      live.reservedKv = need;
      this.#reservedKv += need;
      this.#pulling++;
      this.#startPull(live, live.remote!);
    }
  }

  /** The pull is over (enqueued, failed or abandoned): the engine accounts the KV from here. */
  #unreserve(live: Live): void {
    if (live.reservedKv === 0) return;
    this.#reservedKv -= live.reservedKv;
    this.#pulling--;
    live.reservedKv = 0;
  }

  #startPull(live: Live, kv: Record<string, unknown>): void {
    const url = `http://${kv.remote_host}:${kv.remote_port}/emulator/kv/pull`;
    const tokens = live.job.request.promptTokens;
    const pull = fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        remote_engine_id: kv.remote_engine_id,
        remote_block_ids: kv.remote_block_ids,
      }),
    }).then(async (res) => {
      await res.body?.cancel();
      return res.ok;
    }, () => false);
    void pull.then((ok) => {
      if (live.done) return;
      if (!ok) {
        // vLLM's kv_load_failure_policy "recompute": prefill the prompt here instead.
        this.metrics.kvPullFailures.inc(this.metrics.labels);
        live.job.phase = "full";
        live.job.prefillRemaining = tokens;
        this.#unreserve(live);
        this.#enqueue(live.job);
        return;
      }
      const link = this.options.kvLink;
      const ms = tokens * this.setup.time.kvBytesPerToken / (link.gbps * 1e6) + link.latencyMs;
      live.transferTimer = setTimeout(() => {
        live.transferTimer = undefined;
        this.#unreserve(live);
        if (!live.done) this.#enqueue(live.job);
      }, ms / this.options.speed);
    });
  }

  async #pull(req: Request): Promise<Response> {
    let body: { remote_engine_id?: unknown; remote_block_ids?: unknown };
    try {
      body = await req.json();
    } catch {
      return errorResponse(400, "kv pull: body is not JSON", "invalid_request_error");
    }
    const ids = body.remote_block_ids;
    const key = Array.isArray(ids) && ids.length > 0 ? `${ids[0]}:${ids.length}` : "";
    const held = this.#held.get(key);
    if (body.remote_engine_id !== this.engineId || !held) {
      return errorResponse(
        404,
        `kv pull: no KV held for engine ${JSON.stringify(body.remote_engine_id)} blocks ${key}`,
        "not_found_error",
      );
    }
    this.#release(key);
    return Response.json({ ok: true, tokens: held.job.request.promptTokens });
  }

  #release(key: string): void {
    const held = this.#held.get(key);
    if (!held) return;
    clearTimeout(held.timer);
    this.#held.delete(key);
    const now = this.#driver.catchUp();
    this.engine.releaseKv(held.job, now);
    this.#flush();
  }

  // ---- EngineListener ----

  schedule(_engine: Engine, time: number): void {
    this.#driver.schedule(time);
  }

  prefillStarted(_engine: Engine, job: Job, now: number): void {
    const m = this.metrics;
    m.queue.observe(m.labels, Math.max(0, now - job.request.arrivalMs) / this.clock.speed / 1000);
    m.promptTokens.inc(m.labels, job.request.promptTokens);
    m.prefixQueries.inc(m.labels, job.request.promptTokens);
    if (job.cachedTokens > 0) m.prefixHits.inc(m.labels, job.cachedTokens);
  }

  firstToken(): void {
    // Tokens are read from the engine's counters in #flush, when the step has really ended.
  }

  prefillDone(_engine: Engine, job: Job, now: number): void {
    const live = this.#live.get(job);
    if (!live || live.done) {
      this.engine.releaseKv(job, now);
      return;
    }
    const blocks = Math.ceil(job.request.promptTokens / KV_BLOCK_TOKENS);
    const blockIds = Array.from({ length: blocks }, (_, i) => this.#nextBlock + i);
    this.#nextBlock += blocks;
    const key = `${blockIds[0]}:${blocks}`;
    const timer = setTimeout(() => this.#release(key), this.options.kvHoldTimeoutMs);
    this.#held.set(key, { job, timer });
    const m = this.metrics;
    m.generationTokens.inc(m.labels, 1);
    m.ttft.observe(m.labels, (performance.now() - live.arrivalWall) / 1000);
    this.#finishJson(live, 1, {
      do_remote_prefill: true,
      do_remote_decode: false,
      remote_block_ids: blockIds,
      remote_engine_id: this.engineId,
      remote_host: this.options.host,
      remote_port: this.port,
      tp_size: this.options.tensorParallel,
    });
  }

  finished(_engine: Engine, job: Job): void {
    const live = this.#live.get(job);
    if (!live || live.done) return;
    if (live.mode === "stream") {
      this.#streamTokens(live, job.request.outputTokens);
      if (live.done) return; // truncated
      const w = live.writer!;
      let tail = "";
      if (w.includeUsage) {
        tail += w.usage(usage(job.request.promptTokens, live.sent, job.cachedTokens));
      }
      tail += SSE_DONE;
      this.#write(live, tail, true);
      this.#done(live, "length");
      return;
    }
    this.#noteTokens(live, job.request.outputTokens - live.sent);
    this.#finishJson(live, job.request.outputTokens, null);
  }

  removed(): void {
    // Only aborted jobs are removed here; their clients are already gone.
  }

  preempted(): void {
    this.metrics.preemptions.inc(this.metrics.labels);
  }

  rejected(_engine: Engine, job: Job, _now: number, reason: string): void {
    const live = this.#live.get(job);
    if (live) this.#fail(live, `the engine cannot hold this request: ${reason}`);
  }

  prefixChanged(): void {
    // The emulator keeps its prefix cache to itself, as vLLM does without KV events.
  }

  // ---- output ----

  /** Streams the tokens every live request generated since the last flush. */
  #flush(): void {
    if (this.#parked.length > 0) this.#unpark();
    const clock = this.engine.tokenClock;
    for (const live of this.#live.values()) {
      if (live.mode !== "stream" || live.done) continue;
      const job = live.job;
      const generated = job.heapIndex >= 0 ? job.generated + clock - job.joinClock : job.generated;
      if (generated > live.sent) this.#streamTokens(live, generated);
    }
  }

  #streamTokens(live: Live, upTo: number): void {
    const w = live.writer!;
    const total = live.job.request.outputTokens;
    let out = live.sent === 0 ? w.opening() : "";
    const end = Math.min(upTo, live.truncateAfter);
    for (let i = live.sent; i < end; i++) out += w.token(i, i === total - 1);
    const fresh = end - live.sent;
    if (out !== "") this.#write(live, out, false);
    this.#noteTokens(live, fresh);
    if (upTo > live.truncateAfter) {
      // Truncation fault: the connection drops mid-answer, no [DONE].
      this.#break(live);
    }
  }

  /** Writes to a live stream; a client that already went away is not an error here. */
  #write(live: Live, text: string, close: boolean): void {
    try {
      live.controller!.enqueue(encoder.encode(text));
      if (close) live.controller!.close();
    } catch {
      // The stream was cancelled between the client leaving and its cancel callback.
    }
  }

  #noteTokens(live: Live, fresh: number): void {
    if (fresh <= 0) return;
    const m = this.metrics;
    const now = performance.now();
    if (live.sent === 0) {
      live.firstWall = now;
      m.ttft.observe(m.labels, (now - live.arrivalWall) / 1000);
      if (fresh > 1) m.itl.observe(m.labels, 0);
    } else {
      const gap = (now - live.lastWall) / fresh / 1000;
      for (let i = 0; i < fresh; i++) m.itl.observe(m.labels, gap);
    }
    m.generationTokens.inc(m.labels, fresh);
    live.sent += fresh;
    live.lastWall = now;
  }

  #finishJson(live: Live, tokens: number, kv: Record<string, unknown> | null): void {
    const job = live.job;
    const u = usage(job.request.promptTokens, tokens, job.cachedTokens);
    const body = completeResponse(
      live.api,
      live.id,
      Math.floor(Date.now() / 1000),
      this.options.servedModelName,
      tokens,
      u,
      kv,
    );
    let response: Response;
    if (live.truncateAfter !== Infinity) {
      // Truncation fault: half the JSON, then the connection drops.
      const text = JSON.stringify(body);
      response = new Response(
        new ReadableStream({
          start: (c) => {
            c.enqueue(encoder.encode(text.slice(0, Math.floor(text.length / 2))));
            c.error(new EmulatedFault("emulated truncation"));
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    } else {
      response = Response.json(body);
    }
    live.resolve!(response);
    this.#done(live, "length");
  }

  #done(live: Live, reason: string | null): void {
    live.done = true;
    this.#live.delete(live.job);
    if (live.transferTimer !== undefined) clearTimeout(live.transferTimer);
    this.#unreserve(live);
    if (reason !== null) {
      const m = this.metrics;
      m.success.inc({ ...m.labels, finished_reason: reason });
      m.e2e.observe(m.labels, (performance.now() - live.arrivalWall) / 1000);
    }
  }

  /** Ends `live` with an error the client can read (an SSE error event or error JSON). */
  #fail(live: Live, message: string): void {
    if (live.done) return;
    this.#abortJob(live);
    if (live.controller) {
      this.#write(live, sseErrorEvent(message, "server_error") + SSE_DONE, true);
    } else {
      live.resolve?.(errorResponse(500, message, "server_error"));
    }
    this.#done(live, null);
  }

  /** Ends `live` by breaking the connection (crash and truncation faults). */
  #break(live: Live): void {
    if (live.done) return;
    this.#abortJob(live);
    if (live.controller) {
      try {
        live.controller.error(new EmulatedFault("emulated connection drop"));
      } catch {
        // the client had already gone
      }
    } else live.resolve?.(brokenResponse());
    this.#done(live, null);
  }

  /** The client went away. */
  #abort(live: Live): void {
    if (live.done) return;
    this.#abortJob(live);
    this.#done(live, null);
  }

  #abortJob(live: Live): void {
    if (live.transferTimer !== undefined) clearTimeout(live.transferTimer);
    if (this.#dead) return;
    const now = this.#driver.catchUp();
    this.engine.abort(live.job, now);
  }
}

/** What is wrong with a decode request's `kv_transfer_params`, or null. */
function checkRemoteParams(kv: Record<string, unknown>): string | null {
  const need = (field: string, ok: boolean, what: string) =>
    ok
      ? null
      : `kv_transfer_params.${field} must be ${what} for a remote-prefill (decode) request: ` +
        `current value is ${JSON.stringify(kv[field])}`;
  const ids = kv.remote_block_ids;
  return need("remote_engine_id", typeof kv.remote_engine_id === "string", "a string") ??
    need(
      "remote_block_ids",
      Array.isArray(ids) && ids.length > 0 && ids.every((x) => Number.isInteger(x)),
      "a non-empty array of block ids",
    ) ??
    need("remote_host", typeof kv.remote_host === "string", "a host name") ??
    need("remote_port", Number.isInteger(kv.remote_port), "a port number");
}

/** Starts an emulator; `port: 0` picks a free port (read it from `.port`). */
export async function startEmulator(input: EmulatorOptionsInput = {}): Promise<Emulator> {
  const emulator = new Emulator(input);
  await emulator.listen();
  return emulator;
}
