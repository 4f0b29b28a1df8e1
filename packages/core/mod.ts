/**
 * @pdroute/core: pdroute's prefill/decode scoring core for any JS host (Node, Deno, browsers,
 * workers). The entry point of the npm package, built from this repository's sources by
 * `deno task build:package` (packages/core/build.ts). Everything here is re-exported from the
 * project's own modules, which its simulator and live router use too: the only code of its
 * own is where the compiled core lies next to the bundle.
 *
 * @module
 */
import type { ScoringCore } from "../../src/core/scoring_core.ts";
import { type CoreOptions, createCoreSync } from "../../src/wasm/create_core.ts";
import { type CoreModuleSource, loadCoreModule as loadFrom } from "../../src/wasm/load_module.ts";

/** Where the package keeps its compiled core: `pdroute_core.wasm` beside the bundle. */
export function coreModuleUrl(): URL {
  return new URL("./pdroute_core.wasm", import.meta.url);
}

/** Compiles the core (the package's own `pdroute_core.wasm` unless given another source). */
export function loadCoreModule(
  source: CoreModuleSource = coreModuleUrl(),
): Promise<WebAssembly.Module> {
  return loadFrom(source);
}

export interface CreateCoreOptions extends CoreOptions {
  /** Where the compiled core comes from (default: the package's own); `wasm` only. */
  readonly module?: CoreModuleSource;
}

/**
 * A core holding `options.endpoints` under `options.policy`, deciding in WASM (or with the TS
 * reference when `implementation: "reference"`). Loads and compiles the module on each call:
 * to make many cores, load it once with `loadCoreModule()` and pass it as `module`.
 */
export async function createCore(options: CreateCoreOptions): Promise<ScoringCore> {
  const wasm = (options?.implementation ?? "wasm") === "wasm";
  const module = wasm ? await loadCoreModule(options.module) : undefined;
  return createCoreSync({ ...options, module });
}

export { createCoreSync };
export type { CoreModuleSource, CoreOptions };
export type { CoreOptionsSync } from "../../src/wasm/create_core.ts";
export { ABI_VERSION, type CoreCapacity } from "../../src/core/abi.ts";
export { DEFAULT_CAPACITY } from "../../src/core/capacity.ts";
export {
  DEFAULT_POLICY_CONFIG,
  type PolicyConfig,
  type PolicyConfigInput,
  type PolicyName,
  resolvePolicyConfig,
} from "../../src/core/config.ts";
export { POLICY_NAMES } from "../../src/core/policies.ts";
export type { EndpointLoad, EndpointRole, EndpointSpec } from "../../src/core/endpoints.ts";
export { PolicyInputError } from "../../src/core/errors.ts";
export { PrefixTier, type PrefixTierCode } from "../../src/core/prefix_index.ts";
export {
  type DecisionSlot,
  newDecision,
  type RouteDecision,
  type RouteRequest,
  type RouteStatus,
} from "../../src/core/request.ts";
export { type CoreKind, type Migration, ScoringCore } from "../../src/core/scoring_core.ts";
export { SequenceSlots } from "../../src/core/sequences.ts";
export { ObservedRatios, ObservedTimes } from "../../src/core/observed_ratios.ts";
