/**
 * The live router: clients talk to it exactly as to a vLLM server; it places each request on
 * a prefill and a decode engine with the scoring core and relays the answer.
 *
 * A request's life:
 * 1. read (JSON only, size- and time-limited) and validate the body; refuse what no engine
 *    can hold; estimate prompt tokens and prefix blocks;
 * 2. decide (core `route`); with no capacity, wait in the router's bounded queue (whatever
 *    fits is placed when capacity frees: no head-of-line blocking) for at most
 *    `queueTimeoutMs`, then shed with 503 + Retry-After (at once with no healthy engine);
 * 3. disaggregated: the NixlConnector handoff (handoff.ts) - prefill request, then the
 *    decode request carrying the prefill's kv_transfer_params; local: the request as is;
 * 4. relay: streaming answers pass through chunk by chunk as they arrive; response headers
 *    are held until the first chunk, so until then nothing has reached the client and a
 *    failure (connection error, timeout, 5xx, empty or cut stream) is retried on another
 *    endpoint (the failing one is marked unhealthy). After the first chunk a failure ends the
 *    stream with an SSE error event and `data: [DONE]`; a stream that ends without [DONE]
 *    gets the same. Non-streaming answers are read whole before anything is sent, so they are
 *    always retryable, and must arrive within the response timeout. Engine 4xx answers are the
 *    client's problem and are relayed as they are.
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
import type { ScoringCore } from "../core/scoring_core.ts";
import type { RouterConfig } from "./config.ts";
import type { RouterContext } from "./context.ts";
import type { Endpoint } from "./endpoint.ts";
import type { Health } from "./health.ts";
import { dispatch } from "./http.ts";
import type { LoadBook } from "./load_book.ts";
import { startLoops } from "./loops.ts";
import type { RouterMetrics } from "./router_metrics.ts";
import { routerStatus } from "./status.ts";
import type { ReplicaSync } from "./sync/replica_sync.ts";
import type { Scraper } from "./telemetry.ts";
import { buildContext, resolveFleet } from "./wiring.ts";
import { RouterConfigError } from "./config.ts";
import type { KvPrecise } from "./kv_precise.ts";
import { loadTokenizer, type PromptTokenizer } from "../kv/tokenizer.ts";

/**
 * The module map, in the order a request meets it: http.ts (dispatch; status.ts) -> intake.ts (body,
 * validation, estimates) -> retry.ts -> placement.ts (decide, wait queue, shed) -> attempt.ts
 * (P/D handoff) -> upstream.ts (the engine call and its timeouts) -> relay_modes.ts; beside them
 * wiring.ts (core and sizing), loops.ts (scrapes, probes, migration timer), migration.ts.
 */
export class Router {
  readonly #ctx: RouterContext;
  readonly #stop = new AbortController();
  readonly #timers: ReturnType<typeof setTimeout>[] = [];

  private constructor(
    config: RouterConfig,
    specs: Parameters<typeof buildContext>[1],
    tokenizer: PromptTokenizer | null,
  ) {
    this.#ctx = buildContext(config, specs, this.#stop.signal, tokenizer);
  }

  /** Builds the router (endpoint specs from the presets, placement from a topology file). */
  static async create(config: RouterConfig): Promise<Router> {
    const fleet = await resolveFleet(config);
    const dir = config.kv.tokenizer;
    let tokenizer: PromptTokenizer | null = null;
    if (dir !== null) {
      try {
        tokenizer = await loadTokenizer(dir);
      } catch (e) {
        throw new RouterConfigError(
          `Invalid router config: 'kv.tokenizer': ${(e as Error).message}`,
        );
      }
    }
    return new Router(fleet.config, fleet.specs, tokenizer);
  }

  get config(): RouterConfig {
    return this.#ctx.config;
  }
  get endpoints(): Endpoint[] {
    return this.#ctx.endpoints;
  }
  get core(): ScoringCore {
    return this.#ctx.core;
  }
  get book(): LoadBook {
    return this.#ctx.book;
  }
  get metrics(): RouterMetrics {
    return this.#ctx.metrics;
  }
  get health(): Health {
    return this.#ctx.health;
  }
  get scraper(): Scraper {
    return this.#ctx.scraper;
  }
  get sync(): ReplicaSync | null {
    return this.#ctx.sync;
  }

  /** Precise KV awareness (null: approximate prefixes only). */
  get kv(): KvPrecise | null {
    return this.#ctx.kv;
  }

  /** Router clock, ms since start (the core's `now`). */
  now(): number {
    return this.#ctx.now();
  }

  /** Starts the background loops (scraping, health probes, migration planning) and sync. */
  async start(): Promise<void> {
    await startLoops(this.#ctx, this.#timers);
    await this.#ctx.sync?.start();
    await this.#ctx.kv?.start();
  }

  /** Stops the loops and ends every request still in flight; the sync says bye. */
  close(): Promise<void> {
    this.#stop.abort();
    for (const t of this.#timers) clearTimeout(t);
    for (const f of this.#ctx.flights) f.abort?.abort(new Error("router shutting down"));
    this.#ctx.queue.wakeAll();
    return Promise.all([this.#ctx.kv?.close(), this.#ctx.sync?.close()]).then(() => {});
  }

  get inFlight(): number {
    return this.#ctx.flights.size;
  }

  get queueDepth(): number {
    return this.#ctx.queue.length;
  }

  /** `completed` (Deno.serve's handler info) settles once the response is sent. */
  handle(req: Request, completed: Promise<void> | null = null): Promise<Response> {
    return dispatch(this.#ctx, req, completed);
  }

  /** What the router believes about each endpoint (for people, tests and `pdroute drive`). */
  status(): ReturnType<typeof routerStatus> {
    return routerStatus(this.#ctx);
  }
}
