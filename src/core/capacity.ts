/** Capacities of a scoring core: fixed for its lifetime because WASM views must not move. */
import type { CoreCapacity } from "./abi.ts";
import { describeValue, PolicyInputError } from "./errors.ts";

export const DEFAULT_CAPACITY: CoreCapacity = {
  endpoints: 1024,
  sequences: 65536,
  prefixEntries: 262144,
  requestBlocks: 512,
  hosts: 64,
  numaPerHost: 8,
  domains: 64,
  moves: 16,
  migrationBudget: 1024,
};

/** Upper bounds keep the WASM memory under ~256 MiB; raise them only with the layout in mind. */
const MAX: CoreCapacity = {
  endpoints: 16384,
  sequences: 1 << 21,
  prefixEntries: 1 << 23,
  requestBlocks: 1 << 16,
  hosts: 4096,
  numaPerHost: 64,
  domains: 16384,
  moves: 1024,
  migrationBudget: 1 << 16,
};

export function resolveCapacity(partial: Partial<CoreCapacity> = {}): CoreCapacity {
  const merged: CoreCapacity = { ...DEFAULT_CAPACITY, ...partial };
  for (const key of Object.keys(DEFAULT_CAPACITY) as (keyof CoreCapacity)[]) {
    const value = merged[key];
    const min = 1;
    if (!Number.isInteger(value) || value < min || value > MAX[key]) {
      throw new PolicyInputError(
        `Invalid core capacity: '${key}' must be an integer from ${min} to ${MAX[key]}: ` +
          `current value is ${describeValue(value)}`,
      );
    }
  }
  const unknown = Object.keys(partial).filter((k) => !(k in DEFAULT_CAPACITY));
  if (unknown.length > 0) {
    throw new PolicyInputError(
      `Invalid core capacity: unknown field '${unknown[0]}'; known fields are ${
        Object.keys(DEFAULT_CAPACITY).join(", ")
      }`,
    );
  }
  return merged;
}
