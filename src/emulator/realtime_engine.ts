/**
 * The simulator's `Engine`, driven by real timers instead of an event queue.
 *
 * Engine time runs `speed` times faster than wall time (engine ms = wall ms since start x
 * speed). The engine asks for a wake-up at an engine time; a timer fires at the matching wall
 * time and the engine processes every wake-up that is due, each at its own scheduled engine
 * time, so a late timer delays delivery but never bends the modelled timeline. Before any
 * outside input (a new request, an abort, released KV) the engine first catches up to now, so
 * nothing is ever admitted before it arrived.
 *
 * The engine reports through `EngineListener`; tokens are not events there, so after each
 * batch of wake-ups `onAdvance` lets the owner read every live job's generated-token count.
 */
import type { Engine, EngineListener } from "../engine_model/engine.ts";

export class RealtimeClock {
  readonly #start = performance.now();
  constructor(readonly speed: number) {}

  /** Engine time now, ms. */
  now(): number {
    return (performance.now() - this.#start) * this.speed;
  }

  /** Wall ms until engine time `t` (0 if past). */
  wallUntil(t: number): number {
    return Math.max(0, (t - this.now()) / this.speed);
  }
}

export class RealtimeDriver {
  #wakeAt = Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    readonly clock: RealtimeClock,
    private readonly engine: () => Engine,
    /** Called after due wake-ups were processed (tokens may have been generated). */
    private readonly onAdvance: () => void,
  ) {}

  /** `EngineListener.schedule`: the engine wants a wake-up at engine time `time`. */
  schedule(time: number): void {
    this.#wakeAt = time;
    this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed || this.#wakeAt === Infinity) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.pump();
    }, this.clock.wallUntil(this.#wakeAt));
  }

  /** Processes every wake-up due by now; returns engine time now. */
  catchUp(): number {
    const now = this.clock.now();
    let guard = 0;
    while (this.#wakeAt <= now) {
      const t = this.#wakeAt;
      this.#wakeAt = Infinity;
      this.engine().onWake(t);
      if (++guard > 1_000_000) throw new Error("emulator engine is not advancing: this is a bug");
    }
    return now;
  }

  pump(): void {
    this.catchUp();
    // Timers may fire a little early (the delay is rounded): wait again for a wake not yet due.
    if (this.#timer === undefined) this.#arm();
    this.onAdvance();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

export type { Engine, EngineListener };
