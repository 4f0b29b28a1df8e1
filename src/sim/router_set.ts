/**
 * Router replicas in the simulator (`router.replicas`, `router.syncDelayMs`,
 * `router.replicaSpread`). Each replica is a SimRouter with its own scoring core: its own
 * accounting, observed ratios, output estimate, migration slots and prefix knowledge. Each
 * request goes to one replica (round robin, or by session: a hash of its first two prefix
 * blocks).
 * A replica's changes to its own accounting (dispatch, prefill done, finish, migration) and to
 * its approximate prefix mirror reach the other replicas `syncDelayMs` late, or never with no
 * sync (null). Precise prefix knowledge does not travel between replicas: each replica reads
 * the engines' KV events itself, `kvEventDelayMs` late.
 *
 * With one replica nothing is sent, and the router is exactly the single router it replaces.
 * Everything is deterministic: replica k's tie-break stream is forked from the simulation's
 * seed, and delayed messages are ordinary events of the simulation's queue.
 */
import type { PolicyConfigInput } from "../core/config.ts";
import type { SimConfig } from "./config.ts";
import type { Fleet } from "./fleet.ts";
import { type ReplicaSink, SimRouter } from "./sim_router.ts";
import type { Rng } from "../workload/rng.ts";
import type { SimRequest } from "../workload/request.ts";

/** Runs `fn` `delayMs` of simulated time from now (an event of the simulation). */
export type Later = (delayMs: number, fn: () => void) => void;

export class RouterSet {
  readonly routers: SimRouter[] = [];
  #next = 0;

  constructor(
    readonly config: SimConfig,
    fleet: Fleet,
    policy: PolicyConfigInput,
    rng: Rng,
    private readonly later: Later,
  ) {
    const { replicas } = config.router;
    // Replica 0 draws from the stream the single router always used.
    const streams = [rng.fork(7)];
    for (let k = 1; k < replicas; k++) streams.push(rng.fork(1000 + k));
    for (let k = 0; k < replicas; k++) {
      const sink = replicas > 1 && config.router.syncDelayMs !== null ? this.#sinkFor(k) : null;
      this.routers.push(new SimRouter(config, fleet, policy, streams[k], sink));
    }
  }

  /** The first replica: what the whole set reports (policy, whether it migrates). */
  get first(): SimRouter {
    return this.routers[0];
  }

  /** The replica that routes `req` (called once per request, in arrival order). */
  replicaFor(req: SimRequest): number {
    const n = this.routers.length;
    if (n === 1) return 0;
    const blocks = req.prefixBlocks;
    if (this.config.router.replicaSpread === "session" && blocks.length > 0) {
      // Two blocks: Mooncake's first block is one system prompt that every request shares.
      return hash32(hash32(blocks[0]) ^ (blocks.length > 1 ? blocks[1] : 0)) % n;
    }
    const k = this.#next;
    this.#next = (k + 1) % n;
    return k;
  }

  /** An engine's KV event (its prefix cache changed): every replica with precise knowledge. */
  engineChanged(e: number, added: readonly number[], evicted: readonly number[]): void {
    const { prefixKnowledge, kvEventDelayMs } = this.config.router;
    if (prefixKnowledge !== "precise") return;
    const apply = () => {
      for (const r of this.routers) r.prefixChanged(e, added, evicted);
    };
    if (kvEventDelayMs === 0) apply();
    else this.later(kvEventDelayMs, apply);
  }

  #sinkFor(from: number): ReplicaSink {
    const delay = this.config.router.syncDelayMs;
    const others = (fn: (r: SimRouter) => void) => {
      const run = () => {
        for (let k = 0; k < this.routers.length; k++) if (k !== from) fn(this.routers[k]);
      };
      if (!delay) run();
      else this.later(delay, run);
    };
    return {
      load: (e, queued, seqs, kv, pre, pending, pendingSeqs) =>
        others((r) => r.remoteLoad(e, queued, seqs, kv, pre, pending, pendingSeqs)),
      prefix: (e, blocks) => others((r) => r.remotePrefix(e, blocks)),
    };
  }
}

function hash32(x: number): number {
  let h = Math.imul((x >>> 0) ^ 0x5bd1e995, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}
