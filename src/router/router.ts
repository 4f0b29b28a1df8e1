/**
 * The live router: clients talk to it exactly as to a vLLM server; it places each request on
 * a prefill and a decode engine with the scoring core and relays the answer.
 *
 * A request's life:
 * 1. read (size-limited) and validate the body; estimate prompt tokens and prefix blocks;
 * 2. decide (core `route`); with no capacity, wait in a bounded FIFO at the router for at most
 *    `queueTimeoutMs`, then shed with 503 + Retry-After;
 * 3. disaggregated: the NixlConnector handoff (handoff.ts) - prefill request, then the
 *    decode request carrying the prefill's kv_transfer_params; local: the request as is;
 * 4. relay: streaming answers pass through chunk by chunk as they arrive; response headers
 *    are held until the first chunk, so until then nothing has reached the client and a
 *    failure (connection error, timeout, 5xx, empty or cut stream) is retried on another
 *    endpoint (the failing one is marked unhealthy). After the first chunk a failure ends the
 *    stream with an SSE error event and `data: [DONE]`; a stream that ends without [DONE]
 *    gets the same. Non-streaming answers are read whole before anything is sent, so they are
 *    always retryable. Engine 4xx answers are the client's problem and are relayed as they are.
 *
 * Live migration moves what can move without moving a running sequence (vLLM cannot):
 * a streaming, disaggregated request whose decode has not produced its first token yet. It is
 * registered with the core's migration planner (same `planMigrations`, budget, window and gap
 * as the simulator) from the moment its decode request is sent until the first chunk; a planned
 * move cancels the request on the old decode engine (vLLM aborts it and frees what it held)
 * and sends the same decode request, with the same kv_transfer_params, to the new one. If the
 * old engine had already pulled the KV, the prefill engine has freed it and the new engine
 * recomputes the prompt (vLLM's kv_load_failure_policy "recompute"): a cost the planner's
 * transfer-cost estimate does not see. Requests waiting at the router are re-placed anyway
 * each time they are retried. Nothing else moves.
 */
import type { EndpointSpec } from "../core/endpoints.ts";
import { newDecision } from "../core/request.ts";
import type { ScoringCore } from "../core/scoring_core.ts";
import { endpointSpecFor, setupEngine } from "../engine_model/setup.ts";
import { errorResponse } from "../openai/errors.ts";
import { prefixBlockIds } from "../openai/prefix_blocks.ts";
import {
  type Api,
  BadRequest,
  maxTokensOf,
  parseRequestBody,
  type RequestBody,
} from "../openai/request.ts";
import { estimateTokens, promptText } from "../openai/tokens.ts";
import { applyPlacement, loadPlacement } from "../topology/mod.ts";
import { createCore } from "../wasm/wasm_core.ts";
import { Rng } from "../workload/rng.ts";
import { BodyTooLarge, readBody } from "./body.ts";
import type { RouterConfig } from "./config.ts";
import { type Endpoint, poolOf } from "./endpoint.ts";
import { decodeBody, prefillBody, transferParamsOf } from "./handoff.ts";
import { Health } from "./health.ts";
import { LoadBook, type Routed } from "./load_book.ts";
import { type Outcome, RouterMetrics } from "./router_metrics.ts";
import { relayStream } from "./relay_stream.ts";
import { Scraper } from "./telemetry.ts";
import { WaitQueue } from "./wait_queue.ts";

/** Most prefix blocks one request passes to the core (its request-block capacity). */
const MAX_REQUEST_BLOCKS = 512;

/** One client request in the router. */
interface Flight {
  readonly id: string;
  readonly api: Api;
  readonly path: string;
  readonly body: RequestBody;
  /** The body as received: forwarded as it is when the engine gets the request unchanged. */
  readonly raw: string;
  readonly stream: boolean;
  readonly promptTokens: number;
  readonly blocks: number[];
  readonly maxTokens: number | null;
  /** Router clock at arrival. */
  readonly arrival: number;
  readonly signal: AbortSignal;
  /** Settles when the response has been fully sent (or the connection failed). */
  readonly completed: Promise<void> | null;
  routed: Routed | null;
  queueMs: number;
  migrations: number;
  /** Aborts the current engine call (migration, timeout, client gone, shutdown). */
  abort: AbortController | null;
  /** Set when a migration aborted the decode call: send it again to `routed.decode`. */
  moving: boolean;
  /** Prompt tokens the prefill engine had cached (its usage), when disaggregated. */
  prefillCached: number | null;
  /** The endpoint of the engine call in progress (before output), else -1. */
  calling: number;
}

/**
 * An engine's answer as far as the router read it before deciding anything: the whole body
 * (`text`: JSON answers and errors), or for a stream the first chunk and the rest to come.
 */
interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly stream: { reader: ReadableStreamDefaultReader<Uint8Array>; first: Uint8Array } | null;
  /** Passthrough relay: the engine's body, unread, to hand to the client as it is. */
  readonly body: ReadableStream<Uint8Array> | null;
}

/** Why a call was aborted: its engine was marked unhealthy by another request's failure. */
class UnhealthyEndpoint extends Error {
  override name = "UnhealthyEndpoint";
  constructor(url: string) {
    super(`${url} was marked unhealthy while this call waited`);
  }
}

/** An attempt that failed before anything reached the client. */
class AttemptFailed {
  constructor(readonly endpoint: Endpoint, readonly reason: string, readonly timeout = false) {}
}

export class Router {
  readonly endpoints: Endpoint[];
  readonly core: ScoringCore;
  readonly book: LoadBook;
  readonly metrics: RouterMetrics;
  readonly health: Health;
  readonly scraper: Scraper;
  readonly #rng: Rng;
  readonly #start = performance.now();
  readonly #queue = new WaitQueue();
  readonly #movable = new Map<number, Flight>();
  readonly #flights = new Set<Flight>();
  readonly #stop = new AbortController();
  readonly #timers: ReturnType<typeof setTimeout>[] = [];
  #promptSum = 0;
  #promptCount = 0;
  /** Where the next decision is written: a refusal reuses it, a routed request keeps it. */
  #spare = newDecision();
  /** Model names the engines serve (empty until one answered /v1/models). */
  #modelIds = new Set<string>();

  private constructor(readonly config: RouterConfig, specs: readonly EndpointSpec[]) {
    const c = config;
    this.endpoints = c.endpoints.map((e, index) => ({
      index,
      url: e.url.replace(/\/+$/, ""),
      role: e.role,
      gpu: e.gpu ?? index,
      pool: poolOf(e.role),
      healthy: true,
      failures: 0,
      reason: "",
      models: [],
      histograms: null,
    }));
    const n = this.endpoints.length;
    const setup = routerEngineSetup(c);
    const prefixCacheBlocks = setup.engine.prefixCacheBlocks;
    this.core = createCore({
      implementation: c.implementation,
      policy: c.policy,
      endpoints: specs,
      capacity: {
        endpoints: n,
        sequences: Math.min(1 << 20, Math.max(1024, n * c.engine.maxNumSeqs * 4)),
        prefixEntries: Math.min(1 << 22, n * prefixCacheBlocks + 1024),
        requestBlocks: MAX_REQUEST_BLOCKS,
        hosts: 64,
        numaPerHost: 8,
        domains: 64,
        moves: 64,
        migrationBudget: 4096,
      },
    });
    this.book = new LoadBook(
      this.core,
      n,
      prefixCacheBlocks,
      c.ewmaAlpha,
      c.outputPriorTokens,
      c.outputEstimate === "capped-mean",
    );
    this.#rng = new Rng(c.seed);
    this.metrics = new RouterMetrics(this.endpoints.map((e) => e.url), {
      healthy: (i) => this.endpoints[i].healthy,
      load: (i) => ({
        queued: this.core.state.queuedPrefill[i],
        seqs: this.core.state.activeSeqs[i],
        kv: this.core.state.activeKv[i],
      }),
      telemetryAgeSeconds: (i) => (this.now() - this.book.scrapedAt[i]) / 1000,
      queueDepth: () => this.#queue.length,
      inFlight: () => this.#flights.size,
    });
    this.health = new Health(
      this.endpoints,
      this.book,
      c.health.unhealthyAfter,
      c.health.probeTimeoutMs,
      (e) => {
        void this.#fetchModels(e);
        this.#wakeQueue();
      },
      (e) => {
        // Calls still waiting on a broken engine (nothing sent to their clients) move on now.
        for (const f of this.#flights) {
          if (f.calling === e.index) f.abort?.abort(new UnhealthyEndpoint(e.url));
        }
      },
    );
    this.scraper = new Scraper(
      this.endpoints,
      this.book,
      this.metrics,
      specs.map((s) => s.kvCapacityBlocks),
      c.telemetry.scrapeTimeoutMs,
      () => this.now(),
      () => this.#promptCount === 0 ? 512 : this.#promptSum / this.#promptCount,
    );
  }

  /** Builds the router (endpoint specs from the presets, placement from a topology file). */
  static async create(config: RouterConfig): Promise<Router> {
    const setup = routerEngineSetup(config);
    const gpus = config.endpoints.map((e, i) => e.gpu ?? i);
    const placement = config.topology === undefined
      ? null
      : await loadPlacement(config.topology, gpus);
    const specs = config.endpoints.map((e, i): EndpointSpec => {
      const base = endpointSpecFor(
        setup,
        e.role,
        {
          hostId: e.hostId ?? 0,
          numaNode: e.numaNode ?? 0,
          nvlinkDomain: e.nvlinkDomain ?? -1,
          slabDistanceFactor: 1,
        },
        undefined,
        config.engineSpeed,
      );
      const placed = placement ? applyPlacement(base, placement.endpoints[i]) : base;
      return { ...placed, ...e.spec };
    });
    const policy = placement && config.policy.links === undefined
      ? { ...config.policy, links: placement.links }
      : config.policy;
    return new Router({ ...config, policy }, specs);
  }

  /** Router clock, ms since start (the core's `now`). */
  now(): number {
    return performance.now() - this.#start;
  }

  /** Starts the background loops: scraping, health probes, migration planning. */
  async start(): Promise<void> {
    await Promise.all(this.endpoints.map((e) => this.#fetchModels(e)));
    const c = this.config;
    const every = (ms: number, tick: () => Promise<void> | void) => {
      const loop = async () => {
        if (this.#stop.signal.aborted) return;
        try {
          await tick();
        } catch (e) {
          console.error(`pdroute serve: background task failed: ${(e as Error).stack}`);
        }
        if (!this.#stop.signal.aborted) this.#timers.push(setTimeout(loop, ms));
      };
      this.#timers.push(setTimeout(loop, 0));
    };
    if (c.telemetry.scrapeIntervalMs > 0) {
      every(c.telemetry.scrapeIntervalMs, async () => {
        await this.scraper.scrapeAll(this.#stop.signal);
        this.book.dropStale(this.now(), c.telemetry.staleAfterMs);
        this.#wakeQueue();
      });
    }
    every(c.health.probeIntervalMs, () => this.health.probeAll(this.#stop.signal));
    const core = this.core.config;
    if (core.policy === "predictive" && core.migration.budget > 0) {
      every(c.migrationIntervalMs, () => this.#planMigrations());
    }
  }

  /** Stops the loops and ends every request still in flight. */
  close(): void {
    this.#stop.abort();
    for (const t of this.#timers) clearTimeout(t);
    for (const f of this.#flights) f.abort?.abort(new Error("router shutting down"));
    this.#queue.wakeAll();
  }

  get inFlight(): number {
    return this.#flights.size;
  }

  get queueDepth(): number {
    return this.#queue.length;
  }

  // ---- HTTP ----

  /** `completed` (Deno.serve's handler info) settles once the response is sent. */
  async handle(req: Request, completed: Promise<void> | null = null): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (req.method === "POST" && path === "/v1/completions") {
      return await this.#complete(req, path, "completions", completed);
    }
    if (req.method === "POST" && path === "/v1/chat/completions") {
      return await this.#complete(req, path, "chat", completed);
    }
    if (req.method === "GET") {
      if (path === "/health") {
        const any = this.endpoints.some((e) => e.healthy);
        return new Response(null, { status: any ? 200 : 503 });
      }
      if (path === "/v1/models") return Response.json(this.#models());
      if (path === "/metrics") {
        return new Response(await this.metrics.text(), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        });
      }
      if (path === "/router/status") return Response.json(this.status());
    }
    this.metrics.badRequests.inc({ status: "404" });
    return errorResponse(404, `no route for ${req.method} ${path}`, "not_found_error");
  }

  /** What the router believes about each endpoint (for people, tests and `pdroute drive`). */
  status() {
    const s = this.core.state;
    const now = this.now();
    return {
      policy: this.core.config.policy,
      relay: this.config.relay,
      disaggregation: this.core.config.disaggregation,
      implementation: this.core.kind,
      queueDepth: this.#queue.length,
      inFlight: this.#flights.size,
      endpoints: this.endpoints.map((e) => ({
        index: e.index,
        url: e.url,
        role: e.role,
        pool: e.pool,
        gpu: e.gpu,
        healthy: e.healthy,
        reason: e.reason,
        load: {
          queuedPrefillTokens: s.queuedPrefill[e.index],
          activeSeqs: s.activeSeqs[e.index],
          activeKvBlocks: s.activeKv[e.index],
        },
        own: this.book.own[e.index],
        external: this.book.external[e.index],
        telemetryAgeMs: Number.isFinite(this.book.scrapedAt[e.index])
          ? Math.round(now - this.book.scrapedAt[e.index])
          : null,
        scrapeError: this.scraper.errors[e.index],
        prefixHitRate: this.scraper.latest[e.index]?.prefixHitRate ?? null,
      })),
    };
  }

  #models() {
    const seen = new Map<string, Record<string, unknown>>();
    for (const e of this.endpoints) {
      for (const m of e.models) if (!seen.has(String(m.id))) seen.set(String(m.id), m);
    }
    return { object: "list", data: [...seen.values()] };
  }

  async #fetchModels(e: Endpoint): Promise<void> {
    try {
      const res = await fetch(`${e.url}/v1/models`, {
        signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(2000)]),
      });
      const body = await res.json() as { data?: unknown };
      if (res.ok && Array.isArray(body.data)) {
        e.models = body.data as Record<string, unknown>[];
        this.#modelIds = new Set(this.#models().data.map((m) => String(m.id)));
      }
    } catch {
      // Unknown models just mean the router cannot check names; the engine will.
    }
  }

  #bad(status: number, message: string, param: string | null = null): Response {
    this.metrics.badRequests.inc({ status: String(status) });
    const type = status === 404 ? "not_found_error" : "invalid_request_error";
    return errorResponse(status, message, type, { param });
  }

  async #complete(
    req: Request,
    path: string,
    api: Api,
    completed: Promise<void> | null,
  ): Promise<Response> {
    const arrival = this.now();
    let body: RequestBody;
    let raw: string;
    try {
      raw = await readBody(req, this.config.limits.maxBodyBytes);
      body = parseRequestBody(raw, api);
    } catch (e) {
      if (e instanceof BodyTooLarge) return this.#bad(413, e.message);
      if (e instanceof BadRequest) return this.#bad(400, e.message, e.param);
      throw e;
    }
    if (this.#modelIds.size > 0 && !this.#modelIds.has(body.model)) {
      return this.#bad(
        404,
        `The model \`${body.model}\` does not exist; served: ${[...this.#modelIds].join(", ")}`,
        "model",
      );
    }
    const text = promptText(body, api);
    const promptTokens = Math.max(1, estimateTokens(text));
    this.#promptSum += promptTokens;
    this.#promptCount++;
    const f: Flight = {
      id: req.headers.get("x-request-id") ?? crypto.randomUUID(),
      api,
      path,
      body,
      raw,
      stream: body.stream === true,
      promptTokens,
      blocks: prefixBlockIds(text, this.core.config.prefixBlockTokens, MAX_REQUEST_BLOCKS),
      maxTokens: maxTokensOf(body),
      arrival,
      signal: req.signal,
      completed,
      routed: null,
      queueMs: 0,
      migrations: 0,
      abort: null,
      moving: false,
      prefillCached: null,
      calling: -1,
    };
    this.#flights.add(f);
    let handedOff = false;
    try {
      const res = await this.#serve(f);
      handedOff = res.handedOff;
      return res.response;
    } finally {
      if (!handedOff) this.#finishFlight(f);
    }
  }

  /** Routes and relays `f`; `handedOff` means a relay stream now owns the flight. */
  async #serve(f: Flight): Promise<{ response: Response; handedOff: boolean }> {
    const c = this.config.limits;
    let last: AttemptFailed | null = null;
    for (let attempt = 1; attempt <= c.maxAttempts; attempt++) {
      const placed = await this.#place(f);
      if (placed instanceof Response) return { response: placed, handedOff: false };
      const result = await this.#attempt(f, placed);
      if (!(result instanceof AttemptFailed)) return result;
      last = result;
      this.#release(f);
      this.metrics.retries.inc({
        endpoint: result.endpoint.url,
        reason: result.timeout ? "timeout" : "error",
      });
      if (f.signal.aborted || this.#stop.signal.aborted) {
        this.#count(null, "cancelled");
        return {
          response: errorResponse(499, "client closed request", "server_error"),
          handedOff: false,
        };
      }
      this.health.failed(result.endpoint, result.reason);
      if (this.now() - f.arrival > c.requestTimeoutMs) break;
    }
    this.#count(last?.endpoint ?? null, "failed");
    const timeout = last?.timeout ?? false;
    return {
      response: errorResponse(
        timeout ? 504 : 502,
        `no engine could serve the request (${c.maxAttempts} attempt(s)); last failure: ${last?.endpoint.url}: ${last?.reason}`,
        "upstream_error",
      ),
      handedOff: false,
    };
  }

  // ---- placement and the router queue ----

  /** Decides and accounts `f`, waiting at the router for capacity; a Response means shed. */
  async #place(f: Flight): Promise<Routed | Response> {
    const limits = this.config.limits;
    const queuedAt = this.now();
    // Requests already waiting go first (FIFO): a newcomer joins the queue behind them.
    if (this.#queue.length === 0) {
      const r = this.#decide(f);
      if (r) return r;
    }
    const deadline = queuedAt + limits.queueTimeoutMs;
    while (true) {
      if (this.#queue.length >= limits.maxQueued) return this.#shed(f, "queue_full");
      const left = deadline - this.now();
      if (left <= 0) return this.#shed(f, "queue_timeout");
      await this.#queue.wait(f.signal, left);
      if (f.signal.aborted || this.#stop.signal.aborted) {
        this.#count(null, "cancelled");
        return errorResponse(499, "client closed request", "server_error");
      }
      const r = this.#decide(f);
      if (r) {
        f.queueMs += this.now() - queuedAt;
        this.#wakeQueue(); // the next in line may fit too
        return r;
      }
    }
  }

  #decide(f: Flight): Routed | null {
    const t0 = performance.now();
    const decision = this.core.route(
      {
        promptTokens: f.promptTokens,
        outputTokens: this.book.outputEstimate(f.maxTokens),
        prefixBlocks: f.blocks,
      },
      this.now(),
      this.#rng.u32(),
      this.#spare,
    );
    const policy = this.core.config.policy;
    if (decision.status !== "ok") {
      this.metrics.decisions.inc({ policy, path: "no_capacity" });
      return null;
    }
    this.#spare = newDecision(); // the routed request keeps this decision
    const routed = this.book.dispatch(decision, this.now());
    this.metrics.decisionSeconds.observe((performance.now() - t0) / 1000);
    this.metrics.decisions.inc({
      policy,
      path: decision.disaggregated ? "disaggregated" : "local",
    });
    f.routed = routed;
    return routed;
  }

  /** Capacity may have freed: let the head of the queue try again. */
  #wakeQueue(): void {
    this.#queue.wakeHead();
  }

  #shed(f: Flight, reason: "queue_full" | "queue_timeout"): Response {
    this.metrics.sheds.inc({ reason });
    this.#count(null, "shed");
    const healthy = this.endpoints.filter((e) => e.healthy).length;
    const why = healthy === 0
      ? "every engine is unhealthy"
      : "every eligible engine is at capacity";
    const waited = Math.round(this.now() - f.arrival);
    return errorResponse(
      503,
      `pdroute: ${why} (${
        reason === "queue_full" ? "router queue full" : `waited ${waited} ms`
      });` +
        ` retry after ${this.config.limits.retryAfterSeconds} s`,
      "overloaded_error",
      { headers: { "retry-after": String(this.config.limits.retryAfterSeconds) } },
    );
  }

  // ---- one attempt ----

  async #attempt(
    f: Flight,
    routed: Routed,
  ): Promise<{ response: Response; handedOff: boolean } | AttemptFailed> {
    const d0 = routed.decision;
    let body: Record<string, unknown> = f.body;
    if (d0.disaggregated) {
      const p = this.endpoints[d0.prefill];
      const res = await this.#call(
        f,
        p,
        prefillBody(f.body),
        this.config.limits.firstByteTimeoutMs,
      );
      if (res instanceof AttemptFailed) return res;
      if (res.status >= 400) return this.#relayError(f, p, res);
      let answer: unknown;
      try {
        answer = JSON.parse(res.text);
      } catch (e) {
        return new AttemptFailed(p, `prefill answer unreadable: ${(e as Error).message}`);
      }
      const params = transferParamsOf(answer);
      if (typeof params === "string") return new AttemptFailed(p, params);
      const cached = (answer as { usage?: { prompt_tokens_details?: { cached_tokens?: unknown } } })
        .usage?.prompt_tokens_details?.cached_tokens;
      f.prefillCached = typeof cached === "number" ? cached : null;
      this.health.succeeded(p);
      this.book.prefillDone(routed, f.blocks);
      body = decodeBody(f.body, params);
    }
    const migratable = f.stream && d0.disaggregated && this.#migrationOn();
    if (migratable) {
      this.book.openSlot(routed, this.book.outputEstimate(f.maxTokens));
      if (routed.slot >= 0) this.#movable.set(routed.slot, f);
    }
    try {
      while (true) {
        const d = this.endpoints[routed.decode];
        const timeout = f.stream
          ? this.config.limits.firstByteTimeoutMs
          : this.config.limits.requestTimeoutMs;
        const res = await this.#call(f, d, body, timeout, f.stream);
        if (f.moving) {
          // A migration aborted this call: send the same decode request to the new engine.
          f.moving = false;
          if (!(res instanceof AttemptFailed)) await res.stream?.reader.cancel().catch(() => {});
          continue;
        }
        if (res instanceof AttemptFailed) return res;
        if (res.status >= 400) return this.#relayError(f, d, res);
        if (!f.stream) return this.#relayJson(f, d, res);
        return res.body ? this.#passthrough(f, d, res) : this.#relayStream(f, d, res);
      }
    } finally {
      if (routed.slot >= 0) this.#movable.delete(routed.slot);
      this.book.closeSlot(routed);
    }
  }

  /**
   * POSTs `body` to `e` and reads its answer within `timeoutMs`: the whole body, or for a 2xx
   * stream only the first chunk (so headers go to the client once output exists). Connection
   * errors, timeouts, 5xx and streams that end before any output become `AttemptFailed`.
   */
  async #call(
    f: Flight,
    e: Endpoint,
    body: Record<string, unknown>,
    timeoutMs: number,
    stream = false,
  ): Promise<Reply | AttemptFailed> {
    const abort = new AbortController();
    f.abort = abort;
    f.calling = e.index;
    const onClient = () => abort.abort(new Error("client went away"));
    f.signal.addEventListener("abort", onClient, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      const res = await fetch(`${e.url}${f.path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": f.id },
        body: body === f.body ? f.raw : JSON.stringify(body),
        signal: abort.signal,
      });
      if (res.status >= 500) {
        const detail = (await res.text().catch(() => "")).slice(0, 200);
        return new AttemptFailed(e, `HTTP ${res.status} from ${f.path}: ${detail}`);
      }
      if (!stream || res.status >= 400 || !res.body) {
        return {
          status: res.status,
          headers: res.headers,
          text: await res.text(),
          stream: null,
          body: null,
        };
      }
      if (this.config.relay === "passthrough") {
        return { status: res.status, headers: res.headers, text: "", stream: null, body: res.body };
      }
      const reader = res.body.getReader();
      const first = await reader.read();
      if (first.done) return new AttemptFailed(e, "the stream ended before any output");
      return {
        status: res.status,
        headers: res.headers,
        text: "",
        stream: { reader, first: first.value },
        body: null,
      };
    } catch (err) {
      if (timedOut) return new AttemptFailed(e, `no answer within ${timeoutMs} ms`, true);
      const reason = abort.signal.reason;
      if (reason instanceof UnhealthyEndpoint) return new AttemptFailed(e, reason.message);
      return new AttemptFailed(e, `${f.path} failed: ${(err as Error).message}`);
    } finally {
      f.calling = -1;
      clearTimeout(timer);
      f.signal.removeEventListener("abort", onClient);
    }
  }

  /** An engine refused the request (4xx): relay its answer as it is. */
  #relayError(f: Flight, e: Endpoint, res: Reply): { response: Response; handedOff: boolean } {
    this.health.succeeded(e);
    this.#release(f);
    this.#count(e, "client_error");
    return { response: this.#bufferedAnswer(f, res), handedOff: false };
  }

  /** An engine's whole (non-streamed) answer, passed on with the router's headers. */
  #bufferedAnswer(f: Flight, res: Reply): Response {
    return new Response(res.text, {
      status: res.status,
      headers: {
        "content-type": res.headers.get("content-type") ?? "application/json",
        ...this.#routeHeaders(f),
      },
    });
  }

  #relayJson(f: Flight, d: Endpoint, res: Reply): {
    response: Response;
    handedOff: boolean;
  } | AttemptFailed {
    let tokens = 0;
    try {
      const json = JSON.parse(res.text) as { usage?: { completion_tokens?: number } };
      tokens = json.usage?.completion_tokens ?? 0;
    } catch (err) {
      return new AttemptFailed(d, `answer unreadable: ${(err as Error).message}`);
    }
    const r = f.routed!;
    this.health.succeeded(d);
    this.book.prefillDone(r, f.blocks);
    this.book.finished(r, tokens, NaN, this.now());
    this.#release(f);
    this.#count(d, "ok");
    return { response: this.#bufferedAnswer(f, res), handedOff: false };
  }

  #relayStream(f: Flight, d: Endpoint, res: Reply): { response: Response; handedOff: boolean } {
    const { reader, first } = res.stream!;
    const r = f.routed!;
    const tFirst = this.now();
    const ttft = tFirst - f.arrival;
    this.health.succeeded(d);
    this.book.prefillDone(r, f.blocks);
    this.book.firstToken(r, tFirst);
    const prefillUrl = this.endpoints[r.decision.prefill].url;
    this.metrics.ttft.observe({ endpoint: prefillUrl }, ttft / 1000);
    const body = relayStream(first, reader, {
      url: d.url,
      abort: f.abort!,
      timeoutMs: Math.max(0, this.config.limits.requestTimeoutMs - ttft),
      onEnd: (outcome, failure, scan) => {
        const now = this.now();
        // Data events: one per token (chat adds an opening role chunk, usage a last one).
        const tokens = Math.max(1, scan.events);
        const tpot = tokens > 1 ? (now - tFirst) / (tokens - 1) : NaN;
        if (outcome === "ok") {
          this.book.finished(r, tokens, tpot, now);
          if (tokens > 1) this.metrics.tpot.observe({ endpoint: d.url }, tpot / 1000);
        }
        if (failure !== null) this.health.failed(d, failure);
        this.#release(f);
        this.#count(d, outcome);
        this.#finishFlight(f);
      },
    });
    const headers = new Headers(this.#routeHeaders(f));
    headers.set("content-type", res.headers.get("content-type") ?? "text/event-stream");
    headers.set("cache-control", "no-cache");
    return { response: new Response(body, { status: res.status, headers }), handedOff: true };
  }

  /**
   * The passthrough relay (`relay: "passthrough"`): the engine's body goes to the client as
   * it is, piped by the runtime without passing through JavaScript chunk by chunk (about a
   * third of the CPU per token of the JavaScript relay). The price: headers go out when the engine's do
   * (vLLM sends them on accept), so only failures before that are retried; a stream cut later
   * reaches the client as a broken connection rather than an SSE error event; and the router
   * measures no TTFT/TPOT itself (the scraped engine histograms stand in).
   */
  #passthrough(f: Flight, d: Endpoint, res: Reply): { response: Response; handedOff: boolean } {
    const r = f.routed!;
    this.health.succeeded(d);
    // Prefill progress is not visible: its tokens leave the queue now; scraping corrects it.
    this.book.prefillDone(r, f.blocks);
    const abort = f.abort!;
    const overall = setTimeout(
      () => abort.abort(new Error("request timeout")),
      Math.max(0, this.config.limits.requestTimeoutMs - (this.now() - f.arrival)),
    );
    let ended = false;
    const end = (outcome: Outcome) => {
      if (ended) return;
      ended = true;
      clearTimeout(overall);
      this.#release(f);
      this.#count(d, outcome);
      this.#finishFlight(f);
    };
    if (f.completed) {
      // A rejection is a client that left or an engine stream that broke: not told apart here.
      f.completed.then(() => end("ok"), () => end("cancelled"));
    } else {
      queueMicrotask(() => end("ok"));
    }
    const headers = new Headers(this.#routeHeaders(f));
    headers.set("content-type", res.headers.get("content-type") ?? "text/event-stream");
    headers.set("cache-control", "no-cache");
    return { response: new Response(res.body, { status: res.status, headers }), handedOff: true };
  }

  /** Where the request ran, for clients that care (pdroute drive reads these). */
  #routeHeaders(f: Flight): Record<string, string> {
    const r = f.routed;
    const headers: Record<string, string> = {
      "x-request-id": f.id,
      "x-pdroute-prefill": String(r?.decision.prefill ?? -1),
      "x-pdroute-decode": String(r?.decode ?? -1),
      "x-pdroute-queue-ms": f.queueMs.toFixed(3),
      "x-pdroute-migrations": String(f.migrations),
    };
    // The decode engine's usage cannot know what the prefill engine found in its cache.
    if (f.prefillCached !== null) headers["x-pdroute-cached-tokens"] = String(f.prefillCached);
    return headers;
  }

  // ---- bookkeeping ----

  #release(f: Flight): void {
    if (!f.routed) return;
    if (f.routed.slot >= 0) this.#movable.delete(f.routed.slot);
    this.book.release(f.routed);
    this.#wakeQueue();
  }

  #finishFlight(f: Flight): void {
    if (f.routed) this.#release(f);
    this.#flights.delete(f);
  }

  #count(e: Endpoint | null, outcome: Outcome): void {
    this.metrics.requests.inc({ endpoint: e?.url ?? "none", outcome });
  }

  #migrationOn(): boolean {
    const c = this.core.config;
    return c.policy === "predictive" && c.migration.budget > 0;
  }

  #planMigrations(): void {
    if (this.#movable.size === 0) return;
    for (const move of this.core.planMigrations(this.now(), this.#rng.u32())) {
      const f = this.#movable.get(move.sequence);
      if (!f || !f.routed) {
        throw new Error(`migration planned for unknown sequence ${move.sequence}: this is a bug`);
      }
      this.book.moved(f.routed, move.from, move.to);
      f.migrations++;
      f.moving = true;
      this.metrics.migrations.inc({
        from: this.endpoints[move.from].url,
        to: this.endpoints[move.to].url,
      });
      f.abort?.abort(new Error("migrated"));
    }
  }
}

/** The engine description the router derives endpoint rates from. */
function routerEngineSetup(c: RouterConfig) {
  return setupEngine({
    model: c.model,
    gpu: c.gpu,
    efficiency: c.efficiency,
    tensorParallel: c.tensorParallel,
    engine: c.engine,
    prefixBlockTokens: Number(c.policy.prefixBlockTokens ?? 512),
    slabLinkGbps: 25,
  });
}
