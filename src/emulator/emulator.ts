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
import type { Engine } from "../engine_model/engine.ts";
import type { EngineSetup } from "../engine_model/setup.ts";
import { errorResponse } from "../openai/errors.ts";
import { die } from "./admission.ts";
import { handle } from "./http.ts";
import { EmulatedFault, type ReceivedRequest } from "./live.ts";
import type { EmulatorOptions, EmulatorOptionsInput, Faults } from "./options.ts";
import { endAll } from "./output.ts";
import type { RealtimeClock } from "./realtime_engine.ts";
import { EmulatorState } from "./state.ts";
import { EmulatorKv } from "./kv_events.ts";
import type { VllmMetrics } from "./vllm_metrics.ts";

export type { ReceivedRequest };

/**
 * The emulator's lifecycle (listen, close, die) and its public face. The parts: state.ts
 * (what they share), http.ts, admission.ts (checks and faults), kv_handoff.ts,
 * engine_listener.ts, output.ts.
 */
export class Emulator {
  readonly #s: EmulatorState;

  constructor(input: EmulatorOptionsInput = {}) {
    this.#s = new EmulatorState(input);
  }

  get options(): EmulatorOptions {
    return this.#s.options;
  }
  /** Mutable at run time (tests flip faults on and off). */
  get faults(): Faults {
    return this.#s.faults;
  }
  get setup(): EngineSetup {
    return this.#s.setup;
  }
  get engine(): Engine {
    return this.#s.engine;
  }
  get clock(): RealtimeClock {
    return this.#s.clock;
  }
  get metrics(): VllmMetrics {
    return this.#s.metrics;
  }
  get received(): ReceivedRequest[] {
    return this.#s.received;
  }
  get engineId(): string {
    return this.#s.engineId;
  }

  get port(): number {
    return this.#s.port;
  }

  get url(): string {
    return `http://${this.options.host}:${this.port}`;
  }

  get dead(): boolean {
    return this.#s.dead;
  }

  /** Requests currently inside the emulator (queued, transferring, running or held). */
  get inFlight(): number {
    return this.#s.live.size;
  }

  /** The KV events publisher's side (null without `kvEvents.endpoint`). */
  get kv(): EmulatorKv | null {
    return this.#s.kv;
  }

  async listen(): Promise<void> {
    const s = this.#s;
    const kv = s.options.kvEvents;
    if (kv.endpoint !== null && s.kv === null) {
      s.kv = await EmulatorKv.start(kv, s.options.tokenizer!);
    }
    await new Promise<void>((resolve, reject) => {
      try {
        s.server = Deno.serve({
          hostname: s.options.host,
          port: s.options.port,
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
            `cannot listen on ${s.options.host}:${s.options.port}: ${(e as Error).message}`,
          ),
        );
      }
    });
  }

  /**
   * Graceful stop: in-flight requests are ended with an error, any handler still unsettled
   * (whatever its client did) gets a 503, then the port closes.
   */
  async close(): Promise<void> {
    endAll(this.#s, "emulator shutting down");
    for (const settle of [...this.#s.handlers]) {
      settle(errorResponse(503, "emulator shutting down", "server_error"));
    }
    await this.#s.server?.shutdown();
    await this.#s.kv?.close();
  }

  /** The engine dies: streams break mid-way, pending answers fail, the port closes. */
  die(): void {
    die(this.#s);
  }

  /** Answers `req`; the answer is settled at shutdown at the latest. */
  handle(req: Request): Promise<Response> {
    const handlers = this.#s.handlers;
    const { promise, resolve, reject } = Promise.withResolvers<Response>();
    handlers.add(resolve);
    handle(this.#s, req).then(resolve, reject).finally(() => handlers.delete(resolve));
    return promise;
  }
}

/** Starts an emulator; `port: 0` picks a free port (read it from `.port`). */
export async function startEmulator(input: EmulatorOptionsInput = {}): Promise<Emulator> {
  const emulator = new Emulator(input);
  await emulator.listen();
  return emulator;
}
