/**
 * One engine's KV-event index as the scoring core's prefix entries: the index's blocks (our
 * chained hashes) cut to the core's 32-bit ids, each with its tier. An id is DEVICE while any
 * of the hashes that map to it is held in GPU memory, HOST when all of them are only in the
 * CPU tier (the core then credits it `hostTierCredit`, Dynamo's 0.75). While `inCore` is false
 * (the index is stale) the ids are kept up to date here and written to the core on `writeAll`.
 */
import { PrefixTier, type PrefixTierCode } from "../core/prefix_index.ts";
import type { ScoringCore } from "../core/scoring_core.ts";
import type { Medium } from "../kv/events.ts";
import type { KvIndexListener } from "../kv/kv_index.ts";

interface Ref {
  /** Our hashes that map to this id. */
  n: number;
  /** Of them, those held in GPU memory. */
  gpu: number;
}

const tierOf = (r: Ref): PrefixTierCode => r.gpu > 0 ? PrefixTier.DEVICE : PrefixTier.HOST;
const onGpu = (m: Medium) => m === "gpu" ? 1 : 0;

export class KvCoreBlocks implements KvIndexListener {
  readonly #refs = new Map<number, Ref>();
  /** Whether the core's entries for this engine are these blocks (else the mirror's). */
  inCore = false;

  constructor(
    readonly core: ScoringCore,
    readonly endpoint: number,
    /** Told how many (block, endpoint) pairs did not fit in the core's prefix table. */
    readonly overflow: (dropped: number) => void,
  ) {}

  /** Core ids held, with their tiers. */
  tiers(): Map<number, PrefixTierCode> {
    return new Map([...this.#refs].map(([id, r]) => [id, tierOf(r)]));
  }

  /** Writes every id into the core (after the core's entries for the engine were cleared). */
  writeAll(): void {
    const byTier: number[][] = [[], []];
    for (const [id, r] of this.#refs) byTier[tierOf(r)].push(id);
    for (const tier of [PrefixTier.DEVICE, PrefixTier.HOST]) {
      if (byTier[tier].length > 0) {
        this.overflow(this.core.addPrefixBlocks(this.endpoint, byTier[tier], tier));
      }
    }
  }

  held(ours: number, best: Medium): void {
    const id = ours >>> 0;
    const r = this.#refs.get(id);
    if (r === undefined) {
      const fresh = { n: 1, gpu: onGpu(best) };
      this.#refs.set(id, fresh);
      this.#write(id, fresh, null);
      return;
    }
    const had = tierOf(r);
    r.n++;
    r.gpu += onGpu(best);
    this.#write(id, r, had);
  }

  moved(ours: number, best: Medium): void {
    const id = ours >>> 0;
    const r = this.#refs.get(id);
    if (r === undefined) return;
    const had = tierOf(r);
    r.gpu += best === "gpu" ? 1 : -1;
    this.#write(id, r, had);
  }

  gone(ours: number, last: Medium): void {
    const id = ours >>> 0;
    const r = this.#refs.get(id);
    if (r === undefined) return;
    if (r.n <= 1) {
      this.#refs.delete(id);
      if (this.inCore) this.core.removePrefixBlocks(this.endpoint, [id]);
      return;
    }
    const had = tierOf(r);
    r.n--;
    r.gpu -= onGpu(last);
    this.#write(id, r, had);
  }

  cleared(): void {
    this.#refs.clear();
    if (this.inCore) this.core.removeEndpointBlocks(this.endpoint);
  }

  /** Writes `id`'s tier into the core when it is new there or changed. */
  #write(id: number, r: Ref, had: PrefixTierCode | null): void {
    const tier = tierOf(r);
    if (this.inCore && tier !== had) {
      this.overflow(this.core.addPrefixBlocks(this.endpoint, [id], tier));
    }
  }
}
