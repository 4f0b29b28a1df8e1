/**
 * Replica sync: several `pdroute serve` processes in front of the same engines share their
 * in-flight load and prefix mirrors over a NATS server (core publish/subscribe; wire format in
 * messages.ts, what a peer's messages do in peer_book.ts).
 *
 * This replica publishes its own load changes (net per endpoint, coalesced over `flushMs`) and
 * the prefix blocks it records; every `heartbeatMs` its whole own load; on (re)connecting a
 * hello (peers answer with their heartbeat) and its prefix mirror, and it asks the peers for
 * theirs. It applies the peers' messages into the load book (`peers`) and the prefix mirror,
 * and drops a peer silent for `peerTimeoutMs`.
 *
 * Best effort, failing open: the router starts and routes whether or not NATS answers; while
 * it is away, nothing is published, peers time out and the router routes on its own state
 * (plus scrapes); the client reconnects every `reconnectWaitMs`, and the hello/heartbeat
 * exchange resynchronises. `status()` and the `pdroute_sync_*` metrics say where it stands.
 */
import { connect, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type client from "prom-client";
import type { LoadBook } from "../load_book.ts";
import {
  decodeMessage,
  encode,
  fleetFingerprint,
  type LoadVector,
  type SnapshotMessage,
  subjects,
  type SyncMessage,
  SyncMessageError,
} from "./messages.ts";
import { PeerBook } from "./peer_book.ts";
import { natsServer, type SyncConfig } from "./sync_config.ts";
import { SyncMetrics } from "./sync_metrics.ts";

export type SyncState = "connecting" | "connected" | "disconnected" | "closed";

/** A bound on a prefix snapshot's share of NATS's max payload (ids are <= 11 JSON bytes). */
const SNAPSHOT_PAYLOAD_SHARE = 0.8;

export function defaultReplicaId(): string {
  return `r-${crypto.randomUUID().slice(0, 8)}`;
}

export class ReplicaSync {
  readonly id: string;
  readonly epoch = crypto.randomUUID().slice(0, 12);
  readonly fleet: string;
  readonly peers: PeerBook;
  readonly metrics: SyncMetrics;
  state: SyncState = "connecting";
  /** The last connection problem (empty while connected). */
  lastError = "";
  /** Router clock of the last state change. */
  since = 0;
  #nc: NatsConnection | null = null;
  #subs: Subscription[] = [];
  #seq = 0;
  /** What peers were last told of our own load, per endpoint. */
  readonly #published: LoadVector[];
  readonly #dirty = new Set<number>();
  #prefixes: [number, number[]][] = [];
  #flushTimer: ReturnType<typeof setTimeout> | null = null;
  #beat: ReturnType<typeof setInterval> | null = null;
  #closing = false;
  readonly #stop = new AbortController();
  readonly #subjects: ReturnType<typeof subjects>;

  constructor(
    readonly config: SyncConfig,
    private readonly book: LoadBook,
    endpointUrls: readonly string[],
    registry: client.Registry,
    private readonly now: () => number,
    wake: () => void,
  ) {
    this.id = config.replicaId ?? defaultReplicaId();
    this.fleet = fleetFingerprint(endpointUrls);
    this.#subjects = subjects(config.cluster);
    const n = endpointUrls.length;
    this.#published = Array.from({ length: n }, (): LoadVector => [0, 0, 0, 0, 0]);
    this.metrics = new SyncMetrics(registry, {
      peers: () => this.peers.peers.size,
      connected: () => this.state === "connected",
    });
    this.peers = new PeerBook(
      book,
      { id: this.id, epoch: this.epoch, fleet: this.fleet },
      n,
      wake,
      (reason) => this.metrics.refused.inc({ reason }),
    );
    book.onChange = (i) => this.#markDirty(i);
    book.onPrefixes = (i, blocks) => {
      this.#prefixes.push([i, [...blocks]]);
      this.#scheduleFlush();
    };
  }

  /** Starts the heartbeat and the first connection attempt (resolves after it, either way). */
  async start(): Promise<void> {
    this.#beat = setInterval(() => this.#tick(), this.config.heartbeatMs);
    if (!(await this.#tryConnect())) void this.#connectLoop();
  }

  async #connectLoop(): Promise<void> {
    while (!this.#closing) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.config.reconnectWaitMs);
        this.#stop.signal.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
      if (this.#closing || await this.#tryConnect()) return;
    }
  }

  async #tryConnect(): Promise<boolean> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: natsServer(this.config.url),
        name: `pdroute-${this.id}`,
        noEcho: true,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: this.config.reconnectWaitMs,
        reconnectJitter: 0,
        timeout: Math.max(500, this.config.peerTimeoutMs),
        // A server that stops answering pings (a partition) counts as gone after ~2 pings.
        pingInterval: Math.max(500, this.config.peerTimeoutMs),
        maxPingOut: 2,
      });
    } catch (e) {
      this.#setState("disconnected", `cannot reach NATS at ${this.config.url}: ${msg(e)}`);
      return false;
    }
    if (this.#closing) {
      await nc.close().catch(() => {});
      return true;
    }
    this.#nc = nc;
    this.#subs = [
      nc.subscribe(this.#subjects.messages, { callback: (_err, m) => this.#receive(m) }),
      nc.subscribe(this.#subjects.prefixes, {
        callback: (_err, m) => {
          m.respond(encode(this.#snapshot()));
          this.metrics.sent.inc({ kind: "snapshot" });
        },
      }),
    ];
    void this.#watch(nc);
    this.#setState("connected", "");
    this.#joined();
    return true;
  }

  /** Follows the client's connection events until it closes. */
  async #watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "staleConnection") {
        this.#setState("disconnected", `lost NATS at ${this.config.url} (${s.type})`);
      } else if (s.type === "reconnect") {
        this.#setState("connected", "");
        this.#joined();
      }
    }
    if (!this.#closing) {
      this.#nc = null;
      this.#setState("disconnected", `the NATS connection to ${this.config.url} closed`);
      void this.#connectLoop();
    }
  }

  #setState(state: SyncState, error: string): void {
    if (state !== this.state) {
      this.since = this.now();
      if (state !== "connected" && this.state === "connected") {
        console.error(`pdroute serve: replica sync: ${error}; routing on own state`);
      } else if (state === "connected" && this.state === "disconnected") {
        console.error(`pdroute serve: replica sync: connected to ${this.config.url} again`);
      }
    }
    this.state = state;
    this.lastError = error;
  }

  /** (Re)joined: announce, send our whole state, fetch a prefix mirror. */
  #joined(): void {
    this.#send({ t: "hello", ...this.#sender() });
    this.#heartbeat();
    const snap = this.#snapshot();
    if (snap.p.length > 0) this.#send(snap);
    void this.#requestPrefixes();
  }

  async #requestPrefixes(): Promise<void> {
    const nc = this.#nc;
    if (!nc) return;
    let reply: Msg;
    try {
      reply = await nc.request(this.#subjects.prefixes, encode({ t: "hello", ...this.#sender() }), {
        timeout: this.config.peerTimeoutMs,
      });
    } catch {
      return; // no peer answered (none yet, or NATS away again): nothing to merge
    }
    this.#receive(reply);
  }

  #receive(m: Msg): void {
    let message: SyncMessage;
    try {
      message = decodeMessage(m.data);
    } catch (e) {
      if (!(e instanceof SyncMessageError)) throw e;
      this.metrics.refused.inc({ reason: "malformed" });
      this.lastError = e.message;
      return;
    }
    this.metrics.received.inc({ kind: message.t });
    const wall = Date.now();
    if (message.t === "snapshot") {
      if (message.fleet === this.fleet && message.id !== this.id) {
        for (const [i, blocks] of message.p) {
          if (i < this.#published.length) this.book.mirrorPrefixes(i, blocks);
        }
      }
    }
    const peer = this.peers.apply(message, this.now(), wall);
    if (peer) this.metrics.lag.observe(peer.lagMs / 1000);
    if (message.t === "hello" && peer) this.#heartbeat();
  }

  #markDirty(i: number): void {
    const o = this.book.own[i], p = this.#published[i];
    if (
      o.queued === p[0] && o.seqs === p[1] && o.kv === p[2] && o.pre === p[3] &&
      o.pending === p[4]
    ) return;
    this.#dirty.add(i);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushTimer !== null) return;
    this.#flushTimer = setTimeout(() => this.flush(), this.config.flushMs);
  }

  /** Publishes own load changes and recorded prefixes now (else they wait for `flushMs`). */
  flush(): void {
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    if (this.state !== "connected") {
      // Nothing is sent while NATS is away: the heartbeat after reconnecting carries the
      // whole load; recorded prefixes travel in the mirror snapshot sent on rejoining.
      this.#dirty.clear();
      this.#prefixes = [];
      return;
    }
    const d: [number, number, number, number, number, number][] = [];
    for (const i of this.#dirty) {
      const o = this.book.own[i], p = this.#published[i];
      const delta: [number, number, number, number, number, number] = [
        i,
        o.queued - p[0],
        o.seqs - p[1],
        o.kv - p[2],
        o.pre - p[3],
        o.pending - p[4],
      ];
      if (delta.slice(1).some((v) => v !== 0)) d.push(delta);
      this.#published[i] = [o.queued, o.seqs, o.kv, o.pre, o.pending];
    }
    this.#dirty.clear();
    const p = this.#prefixes;
    this.#prefixes = [];
    if (d.length === 0 && p.length === 0) return;
    this.#send({ t: "update", ...this.#sender(), seq: ++this.#seq, d, p });
  }

  #heartbeat(): void {
    this.flush();
    if (this.state !== "connected") return;
    const load = this.book.own.map((o): LoadVector => [o.queued, o.seqs, o.kv, o.pre, o.pending]);
    for (let i = 0; i < load.length; i++) this.#published[i] = [...load[i]];
    this.#send({ t: "heartbeat", ...this.#sender(), seq: ++this.#seq, load });
  }

  #tick(): void {
    this.#heartbeat();
    const n = this.peers.expire(this.now(), this.config.peerTimeoutMs);
    if (n > 0) this.metrics.timeouts.inc(n);
  }

  #sender() {
    return { id: this.id, epoch: this.epoch, fleet: this.fleet, at: Date.now() };
  }

  /** The prefix mirror, newest blocks kept when it would not fit NATS's payload limit. */
  #snapshot(): SnapshotMessage {
    const maxPayload = this.#nc?.info?.max_payload ?? 1024 * 1024;
    const n = this.#published.length;
    const perEndpoint = Math.floor(maxPayload * SNAPSHOT_PAYLOAD_SHARE / 11 / Math.max(1, n));
    const p: [number, number[]][] = [];
    for (let i = 0; i < n; i++) {
      const blocks = this.book.prefixBlocks(i);
      if (blocks.length > 0) p.push([i, blocks.slice(-perEndpoint)]);
    }
    return { t: "snapshot", ...this.#sender(), p };
  }

  #send(m: SyncMessage): void {
    const nc = this.#nc;
    if (!nc || this.state !== "connected") {
      this.metrics.refused.inc({ reason: "not_connected" });
      return;
    }
    try {
      nc.publish(this.#subjects.messages, encode(m));
      this.metrics.sent.inc({ kind: m.t });
    } catch (e) {
      this.metrics.refused.inc({ reason: "not_connected" });
      this.lastError = `publish to NATS failed: ${msg(e)}`;
    }
  }

  /** Says bye (peers drop this replica at once) and closes the connection. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#stop.abort();
    if (this.#beat !== null) clearInterval(this.#beat);
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    this.book.onChange = null;
    this.book.onPrefixes = null;
    const nc = this.#nc;
    if (nc && this.state === "connected") {
      this.#send({ t: "bye", ...this.#sender() });
      await within(nc.flush(), 500);
    }
    for (const s of this.#subs) s.unsubscribe();
    if (nc) await within(nc.close(), 1000);
    this.#nc = null;
    this.peers.clear();
    this.state = "closed";
  }

  /** Where the sync stands, for /router/status. */
  status() {
    const now = this.now();
    const total = (l: readonly LoadVector[]) => ({
      queuedPrefillTokens: l.reduce((a, v) => a + v[0], 0),
      activeSeqs: l.reduce((a, v) => a + v[1], 0),
      activeKvBlocks: l.reduce((a, v) => a + v[2], 0),
    });
    return {
      url: this.config.url,
      cluster: this.config.cluster,
      replicaId: this.id,
      state: this.state,
      sinceMs: Math.round(now - this.since),
      lastError: this.lastError,
      peers: [...this.peers.peers.values()].map((p) => ({
        id: p.id,
        synced: p.synced,
        lastSeenMs: Math.round(now - p.lastSeen),
        lagMs: Math.round(p.lagMs * 1000) / 1000,
        load: total(p.load),
      })),
      mismatchedFleet: [...this.peers.mismatched],
      peersTimedOut: this.peers.timedOut,
      peersDeparted: this.peers.departed,
    };
  }
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Waits for `p` (its failure ignored) or `ms`, whichever is first; leaves no timer behind. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let t: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    p.catch(() => {}),
    new Promise<void>((r) => t = setTimeout(r, ms)),
  ]);
  clearTimeout(t);
}
