/**
 * `CoreState`: the policy's whole state as one typed array per ABI region.
 *
 * The TS reference gets arrays on the JS heap (`allocateState`); the WASM wrapper gets views
 * into the instance's memory. Host-side mutation (`endpoints.ts`, `prefix_index.ts`,
 * `sequences.ts`) is written once against this type and so serves both implementations.
 */
import { type CoreCapacity, type ElementType, REGIONS } from "./abi.ts";

type ArrayOf<T extends ElementType> = T extends "i32" ? Int32Array
  : T extends "u32" ? Uint32Array
  : Float64Array;

export type StateRegions = {
  readonly [R in typeof REGIONS[number] as R["name"]]: ArrayOf<R["type"]>;
};

export interface CoreState extends StateRegions {
  readonly limits: CoreCapacity;
}

/** Builds a typed array of a region's element type over any buffer (JS or WASM memory). */
export function regionView(
  type: ElementType,
  buffer: ArrayBufferLike,
  byteOffset: number,
  length: number,
): Int32Array<ArrayBufferLike> | Uint32Array<ArrayBufferLike> | Float64Array<ArrayBufferLike> {
  switch (type) {
    case "i32":
      return new Int32Array(buffer, byteOffset, length);
    case "u32":
      return new Uint32Array(buffer, byteOffset, length);
    case "f64":
      return new Float64Array(buffer, byteOffset, length);
  }
}

/** Allocates a zeroed state on the JS heap and applies the ABI's initial values. */
export function allocateState(limits: CoreCapacity): CoreState {
  const regions: Record<string, Int32Array | Uint32Array | Float64Array> = {};
  for (const spec of REGIONS) {
    const length = spec.length(limits);
    regions[spec.name] = regionView(spec.type, new ArrayBuffer(length * 8), 0, length);
  }
  const state = { ...regions, limits } as unknown as CoreState;
  initializeState(state);
  return state;
}

/**
 * The initial contents the ABI prescribes beyond zero. `assembly/index.ts` `init` does the
 * same for WASM memory; `tests/core/abi_test.ts` compares the two byte for byte.
 */
export function initializeState(s: CoreState): void {
  const c = s.capacity;
  c[0] = s.limits.endpoints;
  c[1] = s.limits.sequences;
  c[2] = s.limits.prefixEntries;
  c[3] = s.prefixKeys.length;
  c[4] = s.limits.requestBlocks;
  c[5] = s.limits.hosts;
  c[6] = s.limits.numaPerHost;
  c[7] = s.limits.domains;
  c[8] = s.limits.moves;
  c[9] = s.limits.migrationBudget;
  s.prefixHeads.fill(-1);
  s.seqEndpoint.fill(-1);
  const n = s.nodeNext.length;
  for (let i = 0; i < n; i++) s.nodeNext[i] = i + 1 < n ? i + 1 : -1;
  s.nodeEndpoint.fill(-1);
  s.counters[2] = n > 0 ? 0 : -1; // Ctr.PREFIX_FREE_HEAD
  s.groupMin.fill(Infinity); // between decisions every group minimum is +Infinity
}
