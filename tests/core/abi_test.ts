/**
 * The two sides of the ABI agree: constants in assembly/abi.ts equal src/core/abi.ts, region
 * lengths agree, and a freshly initialised WASM core's memory equals the reference's state.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import * as abi from "../../src/core/abi.ts";
import { REGIONS } from "../../src/core/abi.ts";
import { resolveCapacity } from "../../src/core/capacity.ts";
import { allocateState } from "../../src/core/state.ts";
import coreModule from "../../src/wasm/core_module.js";
import { checkExports } from "../../src/wasm/exports.ts";
import { instantiateCore } from "../../src/wasm/wasm_core.ts";

const assemblyAbi = await Deno.readTextFile(new URL("../../assembly/abi.ts", import.meta.url));

function assemblyConstant(name: string): number {
  const match = assemblyAbi.match(new RegExp(`export const ${name}: [iu]32 = (0x[0-9a-f]+|\\d+);`));
  if (!match) throw new Error(`assembly/abi.ts lacks ${name}`);
  return Number(match[1]);
}

Deno.test("assembly/abi.ts repeats every constant of src/core/abi.ts", () => {
  const groups = {
    Status: abi.Status,
    Role: abi.Role,
    PolicyKind: abi.PolicyKind,
    Disaggregation: abi.Disaggregation,
    LinkClass: abi.LinkClass,
    Cfg: abi.Cfg,
    Req: abi.Req,
    Res: abi.Res,
    Move: abi.Move,
    Ctr: abi.Ctr,
    Cap: abi.Cap,
  };
  for (const [group, values] of Object.entries(groups)) {
    for (const [key, value] of Object.entries(values)) {
      assertEquals(assemblyConstant(`${group.toUpperCase()}_${key}`), value, `${group}.${key}`);
    }
  }
  assertEquals(assemblyConstant("ABI_VERSION"), abi.ABI_VERSION);
  assertEquals(assemblyConstant("PREFILL_DRAW_SALT"), abi.PREFILL_DRAW_SALT);
  assertEquals(assemblyConstant("SAMPLE_STRIDE"), abi.SAMPLE_STRIDE);
});

Deno.test("a fresh WASM core's regions equal the reference's initial state", () => {
  for (
    const partial of [
      { endpoints: 3, sequences: 5, prefixEntries: 7, requestBlocks: 2, migrationBudget: 3 },
      {},
    ]
  ) {
    const limits = resolveCapacity(partial);
    const reference = allocateState(limits);
    const { state } = instantiateCore(limits);
    for (const spec of REGIONS) {
      assertEquals(state[spec.name].length, reference[spec.name].length, spec.name);
      assertEquals(Array.from(state[spec.name]), Array.from(reference[spec.name]), spec.name);
    }
  }
});

Deno.test("the module refuses a second init and out-of-range capacities", () => {
  const { exports } = instantiateCore(resolveCapacity({ endpoints: 2 }));
  assertEquals(exports.init(2, 1, 1, 1, 1, 1, 1, 1, 1), abi.Status.ALREADY_INITIALIZED);
  const raw = checkExports(new WebAssembly.Instance(coreModule, {}).exports);
  assertEquals(raw.route(0, 0), abi.Status.NOT_INITIALIZED);
  assertEquals(raw.init(0, 1, 1, 1, 1, 1, 1, 1, 1), abi.Status.BAD_CAPACITY);
  assertEquals(raw.init(2, 1, 1, 1, 1, 1, 1, 1, 1 << 17), abi.Status.BAD_CAPACITY);
  assertEquals(raw.init(2, 1, 1, 1, 1, 1, 1, 1, 1), abi.Status.OK);
  assertEquals(raw.validateState(), abi.Status.OK);
});

Deno.test("mix32 matches murmur3 fmix32 reference values", () => {
  // Values computed from the published fmix32 definition.
  assertEquals(abi.mix32(0), 0);
  assertEquals(abi.mix32(1), 0x514e28b7);
  assertEquals(abi.mix32(0xffffffff), 0x81f16f39);
});
