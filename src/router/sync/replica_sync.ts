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
import type { Msg } from "@nats-io/transport-node";
import type client from "prom-client";
import type { LoadBook } from "../load_book.ts";
import {
  decodeMessage,
  encode,
  fleetFingerprint,
  type LoadDelta,
  type LoadVector,
  type SnapshotMessage,
  subjects,
  SYNC_PROTOCOL,
  type SyncMessage,
  SyncMessageError,
} from "./messages.ts";
import { PeerBook } from "./peer_book.ts";
import { NatsLink } from "./nats_link.ts";
import type { SyncConfig } from "./sync_config.ts";
import { SyncMetrics } from "./sync_metrics.ts";

/** A bound on a prefix snapshot's share of NATS's max payload (ids are <= 11 JSON bytes). */
const SNAPSHOT_PAYLOAD_SHARE = 0.8;

export function defaultReplicaId(): string {
  return `r-${crypto.randomUUID().slice(0, 8)}`;
}

/** A replica's own load on one endpoint, as the wire carries it. */
function ownVector(o: LoadBook["own"][number]): LoadVector {
  return [o.queued, o.seqs, o.kv, o.pre, o.pending, o.pendingSeqs];
}

export class ReplicaSync {
  readonly id: string;
  readonly epoch = crypto.randomUUID().slice(0, 12);
  readonly fleet: string;
  readonly peers: PeerBook;
  readonly metrics: SyncMetrics;
  readonly link: NatsLink;
  /** The last malformed message's problem. */
  lastError = "";
  #seq = 0;
  /** What peers were last told of our own load, per endpoint. */
  readonly #published: LoadVector[];
  readonly #dirty = new Set<number>();
  #prefixes: [number, number[]][] = [];
  #flushTimer: ReturnType<typeof setTimeout> | null = null;
  #beat: ReturnType<typeof setInterval> | null = null;

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
    this.link = new NatsLink(config, `pdroute-${this.id}`, subjects(config.cluster), {
      onJoined: () => this.#joined(),
      onMessage: (m) => this.#receive(m),
      onPrefixRequest: (m) => {
        m.respond(encode(this.#snapshot()));
        this.metrics.sent.inc({ kind: "snapshot" });
      },
    }, now);
    const n = endpointUrls.length;
    this.#published = Array.from({ length: n }, (): LoadVector => [0, 0, 0, 0, 0, 0]);
    this.metrics = new SyncMetrics(registry, {
      peers: () => this.peers.peers.size,
      connected: () => this.link.connected,
    });
    this.peers = new PeerBook(
      book,
      { id: this.id, epoch: this.epoch, fleet: this.fleet },
      n,
      wake,
      (reason) => this.metrics.refused.inc({ reason }),
    );
    book.onChange = (i) => this.#markDirty(i);
    book.prefixes.onRecord = (i, blocks) => {
      this.#prefixes.push([i, [...blocks]]);
      this.#scheduleFlush();
    };
  }

  /** Starts the heartbeat and the first connection attempt (resolves after it, either way). */
  async start(): Promise<void> {
    this.#beat = setInterval(() => this.#tick(), this.config.heartbeatMs);
    await this.link.start();
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
    const ask = encode({ t: "hello", ...this.#sender() });
    const reply = await this.link.requestPrefixes(ask, this.config.peerTimeoutMs);
    // No answer: no peer yet, or NATS away again; nothing to merge.
    if (reply) this.#receive(reply);
  }

  #receive(m: Msg): void {
    let message: SyncMessage;
    try {
      message = decodeMessage(m.data);
    } catch (e) {
      if (!(e instanceof SyncMessageError)) throw e;
      this.metrics.refused.inc({
        reason: e.reason === "version" ? "version_mismatch" : "malformed",
      });
      this.lastError = e.message;
      return;
    }
    this.metrics.received.inc({ kind: message.t });
    const wall = Date.now();
    if (message.t === "snapshot") {
      if (message.fleet === this.fleet && message.id !== this.id) {
        for (const [i, blocks] of message.p) {
          if (i < this.#published.length) this.book.prefixes.mirror(i, blocks);
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
      o.pending === p[4] && o.pendingSeqs === p[5]
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
    if (!this.link.connected) {
      // Nothing is sent while NATS is away: the heartbeat after reconnecting carries the
      // whole load; recorded prefixes travel in the mirror snapshot sent on rejoining.
      this.#dirty.clear();
      this.#prefixes = [];
      return;
    }
    const d: LoadDelta[] = [];
    for (const i of this.#dirty) {
      const o = this.book.own[i], p = this.#published[i];
      const delta: LoadDelta = [
        i,
        o.queued - p[0],
        o.seqs - p[1],
        o.kv - p[2],
        o.pre - p[3],
        o.pending - p[4],
        o.pendingSeqs - p[5],
      ];
      if (delta.slice(1).some((v) => v !== 0)) d.push(delta);
      this.#published[i] = ownVector(o);
    }
    this.#dirty.clear();
    const p = this.#prefixes;
    this.#prefixes = [];
    if (d.length === 0 && p.length === 0) return;
    this.#send({ t: "update", ...this.#sender(), seq: ++this.#seq, d, p });
  }

  #heartbeat(): void {
    this.flush();
    if (!this.link.connected) return;
    const load = this.book.own.map(ownVector);
    for (let i = 0; i < load.length; i++) this.#published[i] = [...load[i]];
    this.#send({ t: "heartbeat", ...this.#sender(), seq: ++this.#seq, load });
  }

  #tick(): void {
    this.#heartbeat();
    const n = this.peers.expire(this.now(), this.config.peerTimeoutMs);
    if (n > 0) this.metrics.timeouts.inc(n);
  }

  #sender() {
    return { v: SYNC_PROTOCOL, id: this.id, epoch: this.epoch, fleet: this.fleet, at: Date.now() };
  }

  /** The prefix mirror, newest blocks kept when it would not fit NATS's payload limit. */
  #snapshot(): SnapshotMessage {
    const maxPayload = this.link.maxPayload;
    const n = this.#published.length;
    const perEndpoint = Math.floor(maxPayload * SNAPSHOT_PAYLOAD_SHARE / 11 / Math.max(1, n));
    const p: [number, number[]][] = [];
    for (let i = 0; i < n; i++) {
      const blocks = this.book.prefixes.blocks(i);
      if (blocks.length > 0) p.push([i, blocks.slice(-perEndpoint)]);
    }
    return { t: "snapshot", ...this.#sender(), p };
  }

  #send(m: SyncMessage): void {
    if (this.link.publish(encode(m))) this.metrics.sent.inc({ kind: m.t });
    else this.metrics.refused.inc({ reason: "not_connected" });
  }

  /** Says bye (peers drop this replica at once) and closes the connection. */
  async close(): Promise<void> {
    if (this.#beat !== null) clearInterval(this.#beat);
    this.#beat = null;
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    this.book.onChange = null;
    this.book.prefixes.onRecord = null;
    if (await this.link.close(encode({ t: "bye", ...this.#sender() }))) {
      this.metrics.sent.inc({ kind: "bye" });
    }
    this.peers.clear();
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
      state: this.link.state,
      sinceMs: Math.round(now - this.link.since),
      lastError: this.link.lastError || this.lastError,
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
