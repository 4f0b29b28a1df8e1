/**
 * Host-side slots for running decode sequences, the candidates of migration planning.
 * A slot's endpoint is -1 when free; the planner scans slots [0, high water).
 */
import { Ctr } from "./abi.ts";
import { requireEndpoint } from "./endpoints.ts";
import { PolicyInputError } from "./errors.ts";
import type { CoreState } from "./state.ts";
import { isFiniteAtLeast, isIntegerIn, requireFinite, requireInteger } from "./validate.ts";

export class SequenceSlots {
  readonly #free: number[] = [];

  constructor(private readonly state: CoreState) {}

  /** Registers a sequence decoding on `endpoint`; returns its slot. */
  open(endpoint: number, kvBlocks: number, remainingTokens: number): number {
    const s = this.state;
    const ctx = "Cannot open sequence";
    requireEndpoint(s, ctx, endpoint);
    requireFinite(ctx, "kvBlocks", kvBlocks);
    requireFinite(ctx, "remainingTokens", remainingTokens);
    let slot = this.#free.pop();
    if (slot === undefined) {
      const high = s.counters[Ctr.SEQ_HIGH_WATER];
      if (high >= s.limits.sequences) {
        throw new PolicyInputError(
          `${ctx}: all ${s.limits.sequences} sequence slots are in use; raise capacity 'sequences'`,
        );
      }
      slot = high;
      s.counters[Ctr.SEQ_HIGH_WATER] = high + 1;
    }
    s.seqEndpoint[slot] = endpoint;
    s.seqKv[slot] = kvBlocks;
    s.seqRemaining[slot] = remainingTokens;
    return slot;
  }

  /** Refreshes a sequence's KV footprint and expected remaining tokens. */
  update(slot: number, kvBlocks: number, remainingTokens: number): void {
    if (!this.#isOpen(slot) || !isFiniteAtLeast(kvBlocks) || !isFiniteAtLeast(remainingTokens)) {
      const ctx = `Cannot update sequence ${slot}`;
      this.#requireOpen(ctx, slot);
      requireFinite(ctx, "kvBlocks", kvBlocks);
      requireFinite(ctx, "remainingTokens", remainingTokens);
    }
    this.state.seqKv[slot] = kvBlocks;
    this.state.seqRemaining[slot] = remainingTokens;
  }

  close(slot: number): void {
    if (!this.#isOpen(slot)) this.#requireOpen(`Cannot close sequence ${slot}`, slot);
    const s = this.state;
    s.seqEndpoint[slot] = -1;
    s.seqKv[slot] = 0;
    s.seqRemaining[slot] = 0;
    this.#free.push(slot);
  }

  endpointOf(slot: number): number {
    this.#requireOpen(`Cannot read sequence ${slot}`, slot);
    return this.state.seqEndpoint[slot];
  }

  #isOpen(slot: number): boolean {
    return isIntegerIn(slot, 0, this.state.counters[Ctr.SEQ_HIGH_WATER]) &&
      this.state.seqEndpoint[slot] >= 0;
  }

  #requireOpen(ctx: string, slot: number): void {
    requireInteger(ctx, "slot", slot, 0, this.state.counters[Ctr.SEQ_HIGH_WATER]);
    if (this.state.seqEndpoint[slot] < 0) {
      throw new PolicyInputError(`${ctx}: slot ${slot} is not open`);
    }
  }
}
