/**
 * What this replica knows of the other replicas: per peer, its own load on each endpoint as
 * its messages tell it, when it was last heard, and whether its deltas can be applied (they
 * follow the last message applied) or it awaits a heartbeat snapshot. The sum over peers is
 * written into the load book's `peers` (the core sees own + peers + scraped beyond both), and
 * peers' prefix blocks into its prefix mirror.
 *
 * Rules: a peer is created by any message from a new (id, epoch) and starts unsynced unless
 * the message is a heartbeat; an update whose seq directly follows applies, any other update
 * (a gap: messages lost while NATS was away) marks the peer unsynced and keeps its last known
 * load until the next heartbeat replaces it; a peer silent for `peerTimeoutMs`, or saying
 * bye, is dropped with its contribution. A message from another fleet (a different endpoint
 * list) is refused and counted. Prefix blocks apply whatever the seq (inserting is
 * idempotent).
 */
import type { LoadBook } from "../load_book.ts";
import {
  type HeartbeatMessage,
  LOAD_VECTOR_LENGTH,
  type LoadVector,
  type SyncMessage,
  type UpdateMessage,
} from "./messages.ts";

export interface Peer {
  readonly id: string;
  readonly epoch: string;
  seq: number;
  synced: boolean;
  /** Router clock when last heard. */
  lastSeen: number;
  /** Sender wall clock to receiver wall clock of its last message, ms. */
  lagMs: number;
  readonly load: LoadVector[];
}

export type Refusal = "fleet_mismatch" | "duplicate_id" | "bad_endpoint" | "gap";

export class PeerBook {
  readonly peers = new Map<string, Peer>();
  /** Replica ids whose messages were refused because they route another endpoint list. */
  readonly mismatched = new Set<string>();
  /** Peers dropped after `peerTimeoutMs` of silence, and after a bye, so far. */
  timedOut = 0;
  departed = 0;

  constructor(
    private readonly book: LoadBook,
    private readonly self: { readonly id: string; readonly epoch: string; readonly fleet: string },
    private readonly endpoints: number,
    /** Called when peers' load fell somewhere (capacity may have freed). */
    private readonly onFreed: () => void,
    /** Called for every message refused, with why. */
    private readonly onRefused: (why: Refusal, m: SyncMessage) => void,
  ) {}

  /** Applies one validated message received at router clock `now` (wall clock `wallNow`). */
  apply(m: SyncMessage, now: number, wallNow: number): Peer | null {
    if (m.id === this.self.id) {
      // With no-echo connections, our own id from another epoch is a second replica using it.
      if (m.epoch !== this.self.epoch) this.onRefused("duplicate_id", m);
      return null;
    }
    if (m.fleet !== this.self.fleet) {
      this.mismatched.add(m.id);
      this.onRefused("fleet_mismatch", m);
      return null;
    }
    if (m.t === "bye") {
      if (this.peers.get(m.id)?.epoch === m.epoch) {
        this.drop(m.id);
        this.departed++;
      }
      return null;
    }
    let peer = this.peers.get(m.id);
    if (peer && peer.epoch !== m.epoch) {
      this.drop(m.id); // restarted: what the old process held is gone with it
      peer = undefined;
    }
    if (!peer) {
      peer = {
        id: m.id,
        epoch: m.epoch,
        seq: 0,
        synced: false,
        lastSeen: now,
        lagMs: 0,
        load: Array.from({ length: this.endpoints }, (): LoadVector => [0, 0, 0, 0, 0, 0]),
      };
      this.peers.set(m.id, peer);
    }
    peer.lastSeen = now;
    peer.lagMs = Math.max(0, wallNow - m.at);
    if (m.t === "heartbeat") this.#snapshot(peer, m);
    else if (m.t === "update") this.#update(peer, m);
    return peer;
  }

  #snapshot(peer: Peer, m: HeartbeatMessage): void {
    if (m.load.length !== this.endpoints) {
      this.onRefused("bad_endpoint", m);
      return;
    }
    let freed = false;
    for (let i = 0; i < this.endpoints; i++) {
      const before = peer.load[i];
      const after = m.load[i];
      if (before.every((v, k) => v === after[k])) continue;
      freed ||= after.some((v, k) => v < before[k]);
      peer.load[i] = [...after];
      this.#sum(i);
    }
    peer.seq = m.seq;
    peer.synced = true;
    if (freed) this.onFreed();
  }

  #update(peer: Peer, m: UpdateMessage): void {
    if (m.d.some(([i]) => i >= this.endpoints) || m.p.some(([i]) => i >= this.endpoints)) {
      this.onRefused("bad_endpoint", m);
      return;
    }
    for (const [i, blocks] of m.p) this.book.prefixes.mirror(i, blocks);
    if (!peer.synced || m.seq !== peer.seq + 1) {
      if (peer.synced) this.onRefused("gap", m);
      peer.synced = false;
      return;
    }
    peer.seq = m.seq;
    let freed = false;
    for (const [i, ...delta] of m.d) {
      const l = peer.load[i];
      for (let k = 0; k < LOAD_VECTOR_LENGTH; k++) {
        l[k] += delta[k];
        if (delta[k] < 0) freed = true;
      }
      this.#sum(i);
    }
    if (freed) this.onFreed();
  }

  /** Drops peers not heard from for `timeoutMs`; returns how many. */
  expire(now: number, timeoutMs: number): number {
    let n = 0;
    for (const p of [...this.peers.values()]) {
      if (now - p.lastSeen <= timeoutMs) continue;
      this.drop(p.id);
      this.timedOut++;
      n++;
    }
    return n;
  }

  /** Forgets peer `id` and its contribution. */
  drop(id: string): void {
    const p = this.peers.get(id);
    if (!p) return;
    this.peers.delete(id);
    for (let i = 0; i < this.endpoints; i++) {
      if (p.load[i].some((v) => v !== 0)) this.#sum(i);
    }
    this.onFreed();
  }

  /** Forgets every peer (sync turned off or lost for good). */
  clear(): void {
    for (const id of [...this.peers.keys()]) this.drop(id);
  }

  /** Peers' load on endpoint `i`, summed, into the load book. */
  #sum(i: number): void {
    const out = this.book.peers[i];
    out.queued =
      out.seqs =
      out.kv =
      out.pre =
      out.pending =
      out.pendingSeqs =
        0;
    for (const p of this.peers.values()) {
      const [q, s, kv, pre, pending, pendingSeqs] = p.load[i];
      out.queued += q;
      out.seqs += s;
      out.kv += kv;
      out.pre += pre;
      out.pending += pending;
      out.pendingSeqs += pendingSeqs;
    }
    this.book.sync(i);
  }
}
