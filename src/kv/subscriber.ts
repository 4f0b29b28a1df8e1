/**
 * One engine's KV event stream: a ZMQ SUB socket on the publisher's endpoint, each message
 * `[topic, sequence (8 bytes, big-endian), payload]` decoded (events.ts) and applied to the
 * engine's index (kv_index.ts) in sequence order.
 *
 * The index is fresh only while the router has seen every batch since the engine started:
 * - the first message must be sequence 0, or the missing history is fetched from the replay
 *   endpoint (vLLM's ROUTER socket: send `["", start (8 bytes BE)]` on a DEALER, read
 *   `["", seq, payload]` frames up to the end marker, seq -1 with an empty payload);
 * - a gap (seq > last + 1) is filled the same way; a sequence that goes back means the engine
 *   restarted: the index is cleared and fresh again;
 * - a gap that cannot be filled (no replay endpoint, replay failed or incomplete), or a
 *   payload that does not decode, clears the index and leaves it stale until the engine's
 *   cache is known empty again (a restart, or AllBlocksCleared); the router then uses its
 *   approximate mirror for that engine;
 * - a publisher that stops accepting connections (probed every `probeIntervalMs`, reachable.ts)
 *   makes it stale until the next message shows whether anything was lost.
 * Nothing a publisher sends or fails to send throws out of here: it is logged and counted.
 */
import type * as zmq from "zeromq";
import { loadZmq, type ZmqModule } from "./zmq.ts";
import { POLLED, pollReceive } from "./zmq_poll.ts";
import { reachable } from "./reachable.ts";
import { decodeBatch, type EventBatch, KvDecodeError } from "./events.ts";
import type { KvIndex } from "./kv_index.ts";
import type { KvMetrics } from "./kv_metrics.ts";

/** vLLM's end-of-replay marker: sequence -1 (all bits set). */
const END_SEQ = 0xffffffffffffffffn;

export interface SubscriberOptions {
  readonly endpoint: string;
  readonly replayEndpoint: string | null;
  /** ZMQ topic prefix to subscribe to ("" = all). */
  readonly topic: string;
  readonly replayTimeoutMs: number;
  /** How often the publisher's port is probed for the connected state (1000 ms). */
  readonly probeIntervalMs?: number;
}

export class KvSubscriber {
  #zmq: ZmqModule | null = null;
  #sub: zmq.Subscriber | null = null;
  #last = -1n;
  #closed = false;
  #done: Promise<void> | null = null;
  #probing: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  /** The index is trusted (every batch since the engine started was applied). */
  fresh = false;
  /** Stale until the engine's cache is known empty (restart or AllBlocksCleared). */
  #lost = false;
  connected = false;

  constructor(
    readonly engine: string,
    readonly options: SubscriberOptions,
    readonly index: KvIndex,
    readonly metrics: KvMetrics,
    readonly log: (line: string) => void,
  ) {}

  /** Loads zeromq (zmq.ts), connects and starts receiving; close() ends it. */
  async start(): Promise<void> {
    this.#zmq = await loadZmq();
    if (this.#closed) return;
    const sub = new this.#zmq.Subscriber(POLLED);
    this.#sub = sub;
    this.#probing = this.#probe();
    sub.connect(this.options.endpoint);
    sub.subscribe(this.options.topic);
    this.#done = this.#loop(sub);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#sub?.close();
    this.#wake?.();
    await Promise.all([this.#done, this.#probing]);
  }

  /** Connected state from a TCP probe of the publisher (reachable.ts says why not zeromq's). */
  async #probe(): Promise<void> {
    const every = this.options.probeIntervalMs ?? 1000;
    while (!this.#closed) {
      const up = await reachable(this.options.endpoint, Math.min(every, 1000));
      if (this.#closed) return;
      if (up) this.connected = true;
      else if (this.connected) {
        this.connected = false;
        this.fresh = false;
        this.metrics.disconnects.inc({ engine: this.engine });
        this.log(
          `KV events of ${this.engine}: publisher disconnected; index stale until it resumes`,
        );
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, every);
        this.#wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  async #loop(sock: zmq.Subscriber): Promise<void> {
    while (!this.#closed) {
      let frames: Buffer[] | null;
      try {
        frames = await pollReceive(sock, () => this.#closed);
      } catch (e) {
        if (this.#closed) return;
        this.log(`KV events of ${this.engine}: receive failed: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (frames === null) return;
      try {
        await this.#message(frames);
      } catch (e) {
        // A bug here must not stop the stream; the index can no longer be trusted.
        this.#stale(`could not apply a message: ${(e as Error).message}`);
      }
    }
  }

  async #message(frames: Buffer[]): Promise<void> {
    const m = this.metrics;
    const engine = this.engine;
    if (frames.length !== 3) {
      m.malformed.inc({ engine, reason: "frames" });
      this.log(`KV events of ${engine}: ignored a message of ${frames.length} frames (expected 3)`);
      return;
    }
    const [, seqFrame, payload] = frames;
    if (seqFrame.length !== 8) {
      m.malformed.inc({ engine, reason: "sequence" });
      this.log(
        `KV events of ${engine}: ignored a message whose sequence is ${seqFrame.length} bytes (expected 8)`,
      );
      return;
    }
    const seq = seqFrame.readBigUInt64BE(0);
    if (this.#last >= 0n && seq <= this.#last) {
      m.restarts.inc({ engine });
      this.log(
        `KV events of ${engine}: sequence went back (${this.#last} -> ${seq}): engine restarted`,
      );
      this.index.cleared();
      this.#lost = false;
      this.#last = -1n;
    }
    const expected = this.#last + 1n;
    if (seq > expected) {
      if (this.#last >= 0n) m.gaps.inc({ engine });
      m.missed.inc({ engine }, Number(seq - expected));
      const filled = await this.#replay(expected, seq);
      if (!filled) {
        this.#stale(`missed batches ${expected}..${seq - 1n}`);
      }
    } else if (!this.#lost) this.fresh = true;
    this.#last = seq;
    this.#apply(payload);
  }

  /** Fetches and applies batches [from, to) from the replay endpoint; false if not all came. */
  async #replay(from: bigint, to: bigint): Promise<boolean> {
    const ep = this.options.replayEndpoint;
    if (ep === null) return false;
    const engine = this.engine;
    const d = new this.#zmq!.Dealer({ ...POLLED, reconnectInterval: -1 });
    const deadline = performance.now() + this.options.replayTimeoutMs;
    let timedOut = false;
    const stopped = () => {
      if (this.#closed) return true;
      timedOut = performance.now() > deadline;
      return timedOut;
    };
    let next = from;
    try {
      d.connect(ep);
      const start = Buffer.alloc(8);
      start.writeBigUInt64BE(from, 0);
      await d.send(["", start]);
      while (next < to) {
        const frames = await pollReceive(d, stopped);
        if (frames === null) {
          throw new Error(timedOut ? `no answer in ${this.options.replayTimeoutMs} ms` : "closed");
        }
        if (frames.length !== 3 || frames[1].length !== 8) break;
        const seq = frames[1].readBigUInt64BE(0);
        if (seq === END_SEQ || frames[2].length === 0) break;
        if (seq < next) continue;
        if (seq > next) break; // the publisher's buffer no longer holds `next`
        this.#apply(frames[2]);
        next++;
      }
    } catch (e) {
      const why = timedOut
        ? `no answer in ${this.options.replayTimeoutMs} ms`
        : (e as Error).message;
      this.log(`KV events of ${engine}: replay from ${ep} failed: ${why}`);
      this.metrics.replays.inc({ engine, result: "failed" });
      return false;
    } finally {
      d.close();
    }
    const ok = next >= to;
    this.metrics.replays.inc({ engine, result: ok ? "ok" : "incomplete" });
    if (ok && !this.#lost) this.fresh = true;
    return ok;
  }

  #apply(payload: Uint8Array): void {
    const engine = this.engine;
    let batch: EventBatch;
    try {
      batch = decodeBatch(payload);
    } catch (e) {
      if (!(e instanceof KvDecodeError)) throw e;
      this.metrics.malformed.inc({ engine, reason: "payload" });
      this.#stale(`undecodable batch: ${e.message}`);
      return;
    }
    this.metrics.batches.inc({ engine });
    for (const ev of batch.events) {
      this.metrics.events.inc({ engine, type: ev.type });
      if (ev.type === "unknown") this.metrics.unknownTypes.inc({ engine, name: ev.name });
      switch (ev.type) {
        case "BlockStored":
          this.index.stored(ev);
          break;
        case "BlockRemoved":
          this.index.removed(ev);
          break;
        case "AllBlocksCleared":
          this.index.cleared();
          if (this.#lost) {
            this.#lost = false;
            this.fresh = true;
          }
          break;
      }
    }
  }

  #stale(why: string): void {
    if (!this.#lost) {
      this.log(
        `KV events of ${this.engine}: ${why}; index stale (approximate prefixes used) until the engine's cache is empty again`,
      );
    }
    this.#lost = true;
    this.fresh = false;
    this.index.cleared();
  }
}
