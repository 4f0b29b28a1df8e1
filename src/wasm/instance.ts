/**
 * The WASM scoring core from a compiled module, in any JS host: instantiates it, lets it lay
 * out its regions, and builds one typed-array view per region once. Afterwards every state
 * write is an in-place store and a decision is one call across the boundary, with nothing
 * copied or allocated per decision. Where the module comes from is the caller's business
 * (`wasm_core.ts` in Deno, `load_module.ts` elsewhere).
 */
import { type CoreCapacity, REGIONS, Status } from "../core/abi.ts";
import { resolveCapacity } from "../core/capacity.ts";
import type { PolicyConfigInput } from "../core/config.ts";
import { type Decider, ScoringCore } from "../core/scoring_core.ts";
import { type CoreState, regionView } from "../core/state.ts";
import { checkExports, type CoreExports } from "./exports.ts";

class WasmDecider implements Decider {
  readonly kind = "wasm" as const;
  constructor(private readonly exports: CoreExports) {}

  route(nowMs: number, draw: number): number {
    return this.exports.route(nowMs, draw);
  }

  planMigrations(nowMs: number, draw: number): number {
    return this.exports.planMigrations(nowMs, draw);
  }
}

/** Instantiates `module` with `limits`, returning its exports and views over its memory. */
export function instantiateModule(
  limits: CoreCapacity,
  module: WebAssembly.Module,
): { exports: CoreExports; state: CoreState } {
  const exports = checkExports(new WebAssembly.Instance(module, {}).exports);
  const status = exports.init(
    limits.endpoints,
    limits.sequences,
    limits.prefixEntries,
    limits.requestBlocks,
    limits.hosts,
    limits.numaPerHost,
    limits.domains,
    limits.moves,
    limits.migrationBudget,
  );
  if (status !== Status.OK) {
    throw new Error(
      `pdroute core: init failed with status ${status} for capacity ${JSON.stringify(limits)}`,
    );
  }
  // Memory never grows after init, so these views stay valid for the core's lifetime.
  const buffer = exports.memory.buffer;
  const regions: Record<string, unknown> = { limits };
  REGIONS.forEach((spec, id) => {
    const expected = spec.length(limits);
    const length = exports.regionLength(id);
    if (length !== expected) {
      throw new Error(
        `pdroute core: region '${spec.name}' has ${length} elements in the module but ` +
          `${expected} in the wrapper; the module and wrapper disagree on the ABI`,
      );
    }
    regions[spec.name] = regionView(spec.type, buffer, exports.regionOffset(id), length);
  });
  // Copied by spread into a fresh object: one built by 50-odd keyed stores is left in V8's
  // slow dictionary mode, which made every host-side state access a hash lookup.
  return { exports, state: { ...regions } as unknown as CoreState };
}

/** A `ScoringCore` deciding with an instance of `module`. */
export function createWasmCoreFrom(
  module: WebAssembly.Module,
  config: PolicyConfigInput = {},
  capacity: Partial<CoreCapacity> = {},
): ScoringCore {
  const { exports, state } = instantiateModule(resolveCapacity(capacity), module);
  return new ScoringCore(state, new WasmDecider(exports), config);
}
