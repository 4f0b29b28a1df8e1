/**
 * One engine's KV blocks as its events tell them, keyed by our chained hash (block_hash.ts).
 * BlockStored maps each engine block hash to ours through its token ids (chained to the parent
 * block's hash, which an earlier BlockStored mapped); BlockRemoved drops the engine hash from
 * that medium; AllBlocksCleared forgets everything. A block may sit in both tiers (GPU and the
 * CPU offload tier): it counts as the best of them.
 */
import { chainHash, ROOT_HASH } from "./block_hash.ts";
import type { BlockRemoved, BlockStored, Medium } from "./events.ts";

/** Credit of a cached block by tier, in the cost (Dynamo's device 1.0, host 0.75). */
export const TIER_CREDIT: Readonly<Record<Medium, number>> = { gpu: 1.0, cpu: 0.75 };

const GPU = 1;
const CPU = 2;
const bit = (m: Medium) => m === "gpu" ? GPU : CPU;

/**
 * Told when one of our block hashes becomes held, changes its best tier (GPU over CPU), or is
 * no longer held in any tier.
 */
export interface KvIndexListener {
  held(ours: number, best: Medium): void;
  moved(ours: number, best: Medium): void;
  /** `last`: its best tier before it went. */
  gone(ours: number, last: Medium): void;
  cleared(): void;
}

export class KvIndex {
  /** Set by the router to mirror the index into its scoring core. */
  listener: KvIndexListener | null = null;
  /** Engine block hash -> our hash. */
  readonly #ours = new Map<string, number>();
  /** Engine block hash -> tiers holding it (bits). */
  readonly #tiers = new Map<string, number>();
  /** Our hash -> [engine blocks on GPU, engine blocks on CPU] that map to it. */
  readonly #blocks = new Map<number, [number, number]>();
  /** Block size in tokens, from the last BlockStored (vLLM's default 16 until then). */
  blockSize = 16;
  /** BlockStored blocks whose parent was never stored here (skipped: their prefix is unknown). */
  orphans = 0;

  stored(e: BlockStored): void {
    this.blockSize = e.blockSize;
    let parent = ROOT_HASH;
    if (e.parentBlockHash !== null) {
      const p = this.#ours.get(e.parentBlockHash);
      if (p === undefined) {
        this.orphans += e.blockHashes.length;
        return;
      }
      parent = p;
    }
    const b = bit(e.medium);
    for (let i = 0; i < e.blockHashes.length; i++) {
      const key = e.blockHashes[i];
      const ours = chainHash(parent, e.tokenIds, i * e.blockSize, (i + 1) * e.blockSize);
      const had = this.#tiers.get(key) ?? 0;
      if ((had & b) === 0) {
        this.#ours.set(key, ours);
        this.#tiers.set(key, had | b);
        this.#count(ours, e.medium, 1);
      }
      parent = ours;
    }
  }

  removed(e: BlockRemoved): void {
    const b = bit(e.medium);
    for (const key of e.blockHashes) {
      const had = this.#tiers.get(key);
      if (had === undefined || (had & b) === 0) continue;
      const ours = this.#ours.get(key)!;
      this.#count(ours, e.medium, -1);
      const left = had & ~b;
      if (left === 0) {
        this.#tiers.delete(key);
        this.#ours.delete(key);
      } else this.#tiers.set(key, left);
    }
  }

  cleared(): void {
    this.#ours.clear();
    this.#tiers.clear();
    this.#blocks.clear();
    this.listener?.cleared();
  }

  /** Our hashes of the blocks held (in any tier). */
  held(): IterableIterator<number> {
    return this.#blocks.keys();
  }

  /** Blocks held per tier (engine blocks). */
  sizes(): { gpu: number; cpu: number } {
    let gpu = 0, cpu = 0;
    for (const b of this.#tiers.values()) {
      if (b & GPU) gpu++;
      if (b & CPU) cpu++;
    }
    return { gpu, cpu };
  }

  /**
   * The cached prefix of a prompt whose blocks hash to `ours` (in order): the leading blocks
   * held in any tier, as tokens, and as credited tokens (each block at its best tier's credit).
   */
  match(ours: readonly number[]): { tokens: number; credited: number } {
    let blocks = 0;
    let credit = 0;
    for (const h of ours) {
      const c = this.#blocks.get(h);
      if (!c) break;
      blocks++;
      credit += c[0] > 0 ? TIER_CREDIT.gpu : TIER_CREDIT.cpu;
    }
    return { tokens: blocks * this.blockSize, credited: credit * this.blockSize };
  }

  #count(ours: number, m: Medium, by: number): void {
    let c = this.#blocks.get(ours);
    const fresh = !c;
    if (!c) this.#blocks.set(ours, c = [0, 0]);
    const before = c[0] > 0 ? "gpu" : "cpu";
    c[m === "gpu" ? 0 : 1] += by;
    if (c[0] <= 0 && c[1] <= 0) {
      this.#blocks.delete(ours);
      if (!fresh) this.listener?.gone(ours, before);
      return;
    }
    const best: Medium = c[0] > 0 ? "gpu" : "cpu";
    if (fresh) this.listener?.held(ours, best);
    else if (best !== before) this.listener?.moved(ours, best);
  }
}
