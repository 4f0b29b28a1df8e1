/**
 * The WASM scoring core in this project (Deno): the module compiled from
 * artifacts/wasm/pdroute_core.wasm at import (`core_module.js`), behind the same constructors
 * the npm package (packages/core) offers with a module it loads itself.
 */
import type { CoreCapacity } from "../core/abi.ts";
import type { PolicyConfigInput } from "../core/config.ts";
import type { ScoringCore } from "../core/scoring_core.ts";
import type { CoreState } from "../core/state.ts";
import coreModule from "./core_module.js";
import { type CoreOptions, createCoreSync } from "./create_core.ts";
import type { CoreExports } from "./exports.ts";
import { createWasmCoreFrom, instantiateModule } from "./instance.ts";

/** Instantiates the core with `limits`, returning its exports and views over its memory. */
export function instantiateCore(
  limits: CoreCapacity,
  module: WebAssembly.Module = coreModule,
): { exports: CoreExports; state: CoreState } {
  return instantiateModule(limits, module);
}

export function createWasmCore(
  config: PolicyConfigInput = {},
  capacity: Partial<CoreCapacity> = {},
): ScoringCore {
  return createWasmCoreFrom(coreModule, config, capacity);
}

/** The embedding API's constructor (`createCoreSync`) with this project's compiled module. */
export function createCore(options: CoreOptions): ScoringCore {
  return createCoreSync({ ...options, module: coreModule });
}
