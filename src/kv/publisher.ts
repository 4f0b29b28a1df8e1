/**
 * A KV event publisher as vLLM's ZmqEventPublisher behaves on the wire (the emulator's; see
 * subscriber.ts for the format): a PUB socket (XPUB, so tests can wait for a subscription) sending `[topic, seq (8 bytes BE), payload]`
 * with seq counting from 0, and a ROUTER replay socket that answers `[id, "", start]` with
 * `[id, "", seq, payload]` for every buffered batch from `start`, then `[id, "", -1, ""]`.
 * The last `bufferSteps` batches are kept for replay (vLLM's buffer_steps, 10,000).
 */
import type * as zmq from "zeromq";
import { loadZmq, type ZmqModule } from "./zmq.ts";
import { POLLED, pollReceive } from "./zmq_poll.ts";
import { encodeBatch, type KvEncoding, type OutEvent } from "./encode.ts";

const END_SEQ = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export interface PublisherOptions {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  /** null: no replay socket; 0: any free port. */
  readonly replayPort: number | null;
  readonly encoding: KvEncoding;
  readonly topic: string;
  readonly bufferSteps?: number;
}

export class KvPublisher {
  /** An XPUB socket: PUB on the wire, and it hears subscriptions (`subscriptions`). */
  readonly #pub: zmq.XPublisher;
  readonly #replay: zmq.Router | null;
  readonly #buffer: { seq: bigint; payload: Uint8Array }[] = [];
  #seq = 0n;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  endpoint = "";
  replayEndpoint: string | null = null;
  /** Batches published. */
  published = 0;
  /** Subscriptions heard (a subscriber receives what is published after its subscription). */
  subscriptions = 0;

  private constructor(readonly options: PublisherOptions, z: ZmqModule) {
    this.#pub = new z.XPublisher({ ...POLLED, verbosity: "allSubs" });
    this.#replay = options.replayPort === null ? null : new z.Router(POLLED);
  }

  static async bind(options: PublisherOptions): Promise<KvPublisher> {
    const p = new KvPublisher(options, await loadZmq());
    await p.#pub.bind(`tcp://${options.host}:${options.port === 0 ? "*" : options.port}`);
    p.endpoint = p.#pub.lastEndpoint!;
    if (p.#replay) {
      const port = options.replayPort === 0 ? "*" : options.replayPort;
      await p.#replay.bind(`tcp://${options.host}:${port}`);
      p.replayEndpoint = p.#replay.lastEndpoint!;
      void p.#serveReplay(p.#replay);
    }
    void p.#hearSubscriptions();
    return p;
  }

  /** Publishes one batch of events (sent in order, after any still being sent). */
  publish(events: readonly OutEvent[], now = Date.now() / 1000): void {
    if (this.#closed || events.length === 0) return;
    const payload = encodeBatch(now, events, this.options.encoding);
    const seq = this.#seq++;
    this.#buffer.push({ seq, payload });
    if (this.#buffer.length > (this.options.bufferSteps ?? 10_000)) this.#buffer.shift();
    this.published++;
    this.sendRaw([this.options.topic, seqBytes(seq), payload]);
  }

  /** Sends frames as they are (tests use it to send what a broken publisher would). */
  sendRaw(frames: (string | Uint8Array)[]): void {
    this.#chain = this.#chain.then(async () => {
      if (this.#closed) return;
      try {
        await this.#pub.send(frames);
      } catch (e) {
        if (!this.#closed) {
          console.error(`pdroute kv publisher: send failed: ${(e as Error).message}`);
        }
      }
    });
  }

  /** Skips a sequence number without sending it (tests use it to make a gap). */
  skip(): void {
    this.#seq++;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#chain;
    if (this.#closed) return;
    this.#closed = true;
    this.#pub.close();
    this.#replay?.close();
  }

  async #hearSubscriptions(): Promise<void> {
    while (!this.#closed) {
      let frames: Buffer[] | null;
      try {
        frames = await pollReceive(this.#pub, () => this.#closed, { maxMs: 50 });
      } catch {
        return; // closed
      }
      if (frames === null) return;
      if (frames[0]?.[0] === 1) this.subscriptions++;
    }
  }

  async #serveReplay(sock: zmq.Router): Promise<void> {
    while (!this.#closed) {
      let frames: Buffer[] | null;
      try {
        frames = await pollReceive(sock, () => this.#closed, { maxMs: 50 });
      } catch {
        return; // closed
      }
      if (frames === null) return;
      if (frames.length !== 3 || frames[2].length !== 8) continue;
      const [id] = frames;
      const start = frames[2].readBigUInt64BE(0);
      try {
        for (const b of this.#buffer) {
          if (b.seq >= start) await sock.send([id, "", seqBytes(b.seq), b.payload]);
        }
        await sock.send([id, "", END_SEQ, ""]);
      } catch (e) {
        if (!this.#closed) {
          console.error(`pdroute kv publisher: replay failed: ${(e as Error).message}`);
        }
      }
    }
  }
}

export function seqBytes(seq: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(seq, 0);
  return b;
}
