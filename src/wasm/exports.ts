/** The WASM core's exports (docs/ABI.md) and the check that an instance provides them. */
import { ABI_VERSION } from "../core/abi.ts";

export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  abiVersion(): number;
  init(
    endpoints: number,
    sequences: number,
    prefixEntries: number,
    requestBlocks: number,
    hosts: number,
    numaPerHost: number,
    domains: number,
    moves: number,
    migrationBudget: number,
  ): number;
  regionOffset(id: number): number;
  regionLength(id: number): number;
  route(nowMs: number, draw: number): number;
  planMigrations(nowMs: number, draw: number): number;
  rebuildPools(): number;
  validateState(): number;
}

const FUNCTIONS = [
  "abiVersion",
  "init",
  "regionOffset",
  "regionLength",
  "route",
  "planMigrations",
  "rebuildPools",
  "validateState",
] as const;

/** Narrows raw exports to `CoreExports`, or throws naming what is missing or mismatched. */
export function checkExports(raw: WebAssembly.Exports): CoreExports {
  if (!(raw.memory instanceof WebAssembly.Memory)) {
    throw new Error("pdroute core: the module exports no 'memory'");
  }
  for (const name of FUNCTIONS) {
    if (typeof raw[name] !== "function") {
      throw new Error(`pdroute core: the module does not export function '${name}'`);
    }
  }
  const exports = raw as unknown as CoreExports;
  const version = exports.abiVersion();
  if (version !== ABI_VERSION) {
    throw new Error(
      `pdroute core: ABI version mismatch: the module implements ${version}, this wrapper ` +
        `expects ${ABI_VERSION}; rebuild it with 'deno task build:wasm'`,
    );
  }
  return exports;
}
