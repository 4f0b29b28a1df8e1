/**
 * The embedding API's one constructor: a scoring core from endpoint descriptions and a policy
 * config, validated up front with errors that name the field and the value. The npm package
 * (packages/core), the simulator and the live router all build their cores here, so there is
 * no second wrapper to drift; what they get is the `ScoringCore` both implementations share.
 */
import type { CoreCapacity } from "../core/abi.ts";
import { resolveCapacity } from "../core/capacity.ts";
import type { PolicyConfigInput } from "../core/config.ts";
import type { EndpointSpec } from "../core/endpoints.ts";
import { describeValue, PolicyInputError } from "../core/errors.ts";
import { createReferenceCore } from "../core/reference/mod.ts";
import type { CoreKind, ScoringCore } from "../core/scoring_core.ts";
import { createWasmCoreFrom } from "./instance.ts";

export interface CoreOptions {
  /** The fleet, in endpoint index order (more may be added later, up to `capacity.endpoints`). */
  readonly endpoints: readonly EndpointSpec[];
  /** The policy and its knobs; `policy` defaults to `predictive`, defaults fill the rest. */
  readonly policy?: PolicyConfigInput;
  /** Fixed table sizes (endpoints, sequences, prefix entries, ...); defaults fit 1024 endpoints. */
  readonly capacity?: Partial<CoreCapacity>;
  /** `wasm` (the default) or `reference`, the TS implementation held to the same decisions. */
  readonly implementation?: CoreKind;
}

export interface CoreOptionsSync extends CoreOptions {
  /** The compiled core, required for `wasm` (see `loadCoreModule`). */
  readonly module?: WebAssembly.Module;
}

const OPTION_FIELDS = {
  endpoints: true,
  policy: true,
  capacity: true,
  implementation: true,
  module: true,
} satisfies Record<keyof CoreOptionsSync, true>;

/** Every field an endpoint description may have: a typo is an error, not a silent default. */
const ENDPOINT_FIELDS = {
  role: true,
  hostId: true,
  numaNode: true,
  nvlinkDomain: true,
  prefillTokensPerMs: true,
  decodeBaseMs: true,
  decodeMsPerKvBlock: true,
  decodeMsPerSeq: true,
  kvCapacityBlocks: true,
  slabMsPerBlock: true,
  costPerHour: true,
  maxNumSeqs: true,
  maxBatchedTokens: true,
} satisfies Record<keyof EndpointSpec, true>;

const IMPLEMENTATIONS: readonly CoreKind[] = ["wasm", "reference"];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fail(message: string): never {
  throw new PolicyInputError(`Invalid core options: ${message}`);
}

function requireKnownFields(where: string, value: object, known: object): void {
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(known, key)) {
      fail(`unknown field '${key}'${where}; known fields are ${Object.keys(known).join(", ")}`);
    }
  }
}

function checkOptions(options: CoreOptionsSync): CoreKind {
  if (!isPlainObject(options)) {
    fail(`expected an object: current value is ${describeValue(options)}`);
  }
  requireKnownFields("", options, OPTION_FIELDS);
  const implementation = options.implementation ?? "wasm";
  if (!IMPLEMENTATIONS.includes(implementation)) {
    fail(
      `'implementation' must be one of ${IMPLEMENTATIONS.join(", ")}: current value is ` +
        describeValue(implementation),
    );
  }
  const endpoints: unknown = options.endpoints;
  if (!Array.isArray(endpoints)) {
    fail(
      `'endpoints' must be an array of endpoint descriptions: current value is ${
        describeValue(endpoints)
      }`,
    );
  }
  endpoints.forEach((spec: unknown, i) => {
    if (!isPlainObject(spec)) {
      fail(`'endpoints[${i}]' must be an object: current value is ${describeValue(spec)}`);
    }
    requireKnownFields(` in 'endpoints[${i}]'`, spec, ENDPOINT_FIELDS);
  });
  if (implementation === "wasm" && !(options.module instanceof WebAssembly.Module)) {
    fail(
      `'module' must be a WebAssembly.Module for implementation 'wasm' (load it with ` +
        `loadCoreModule()): current value is ${describeValue(options.module)}`,
    );
  }
  return implementation;
}

/**
 * A core holding `options.endpoints` (each healthy, with no load) under `options.policy`.
 * Synchronous: the `wasm` implementation needs the compiled `module` at hand.
 */
export function createCoreSync(options: CoreOptionsSync): ScoringCore {
  const implementation = checkOptions(options);
  const capacity = resolveCapacity(options.capacity ?? {});
  if (options.endpoints.length > capacity.endpoints) {
    fail(
      `'endpoints' holds ${options.endpoints.length} endpoints, more than capacity ` +
        `'endpoints' (${capacity.endpoints})`,
    );
  }
  const core = implementation === "wasm"
    ? createWasmCoreFrom(options.module!, options.policy, capacity)
    : createReferenceCore(options.policy, capacity);
  core.setEndpointCount(options.endpoints.length);
  options.endpoints.forEach((spec, i) => core.setEndpoint(i, spec));
  return core;
}
