/**
 * What the emulator's parts share: its options and fault knobs, the engine model and the
 * real-time driver that advances it, metrics, the requests inside it, held KV and the counters.
 * The engine reports to `engineListener`; the driver's wake-ups end in `flush` (output.ts).
 */
import { Engine } from "../engine_model/engine.ts";
import type { Job } from "../engine_model/job.ts";
import { type EngineSetup, setupEngine } from "../engine_model/setup.ts";
import { Rng } from "../workload/rng.ts";
import { PREFIX_BLOCK_TOKENS } from "../workload/synthetic.ts";
import { engineListener } from "./engine_listener.ts";
import type { EmulatorKv } from "./kv_events.ts";
import type { Held, Live, ReceivedRequest } from "./live.ts";
import {
  type EmulatorOptions,
  type EmulatorOptionsInput,
  type Faults,
  resolveEmulatorOptions,
} from "./options.ts";
import { flush } from "./output.ts";
import { RealtimeClock, RealtimeDriver } from "./realtime_engine.ts";
import { VllmMetrics } from "./vllm_metrics.ts";

export class EmulatorState {
  readonly options: EmulatorOptions;
  /** Mutable at run time (tests flip faults on and off). */
  readonly faults: Faults;
  readonly setup: EngineSetup;
  readonly engine: Engine;
  readonly clock: RealtimeClock;
  readonly driver: RealtimeDriver;
  readonly metrics: VllmMetrics;
  readonly received: ReceivedRequest[] = [];
  readonly engineId = crypto.randomUUID();
  readonly rng: Rng;
  readonly live = new Map<Job, Live>();
  /** Prefill KV waiting to be pulled, by "firstBlock:blocks". */
  readonly held = new Map<string, Held>();
  /** Releases of stalled requests (stall fault). */
  readonly stalled = new Set<() => void>();
  /** Every HTTP handler not yet settled: shutdown settles what is left, so none outlives it. */
  readonly handlers = new Set<(r: Response) => void>();
  /** Decode requests waiting for KV room before they pull (vLLM allocates blocks first). */
  readonly parked: Live[] = [];
  /** KV tokens reserved by pulls and transfers in progress. */
  reservedKv = 0;
  pulling = 0;
  server: Deno.HttpServer<Deno.NetAddr> | null = null;
  requests = 0;
  nextId = 0;
  nextBlock = 0;
  dead = false;
  /** KV events (listen() starts them when `kvEvents.endpoint` is set). */
  kv: EmulatorKv | null = null;

  constructor(input: EmulatorOptionsInput) {
    this.options = resolveEmulatorOptions(input);
    this.faults = { ...this.options.faults };
    this.rng = new Rng(this.options.seed);
    this.setup = setupEngine({
      model: this.options.model,
      gpu: this.options.gpu,
      tensorParallel: this.options.tensorParallel,
      engine: this.options.engine,
      // With KV events the prefix cache runs at the engine's block size over real token ids.
      prefixBlockTokens: this.options.kvEvents.endpoint === null
        ? PREFIX_BLOCK_TOKENS
        : this.options.kvEvents.blockSize,
      slabLinkGbps: this.options.kvLink.gbps,
    });
    this.clock = new RealtimeClock(this.options.speed);
    this.driver = new RealtimeDriver(this.clock, () => this.engine, () => flush(this));
    // One step per event: every step's tokens are streamed when that step ends.
    this.engine = new Engine(
      0,
      this.setup.time,
      { ...this.setup.engine, maxSpanSteps: 1 },
      engineListener(this),
    );
    this.metrics = new VllmMetrics(this.options.servedModelName, {
      running: () => this.engine.running.size + this.engine.prefilling.length,
      waiting: () => this.engine.waiting.length + this.parked.length,
      kvUsage: () => Math.min(1, this.engine.kvTokens / this.engine.config.gpuKvTokens),
    }, this.options.legacyMetricNames);
  }

  get port(): number {
    if (!this.server) throw new Error("emulator is not listening; call listen() first");
    return this.server.addr.port;
  }

  /** Engine time now, after every wake-up due by now was processed. */
  catchUp(): number {
    return this.driver.catchUp();
  }

  /** Streams what the engine generated since the last flush (and starts parked pulls). */
  flush(): void {
    flush(this);
  }

  /** Hands `job` to the engine now. */
  enqueue(job: Job): void {
    this.engine.enqueue(job, this.catchUp());
    flush(this);
  }
}
