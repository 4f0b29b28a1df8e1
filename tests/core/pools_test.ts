/**
 * The role pools: the host writers' incremental upkeep equals the WASM core's rebuild from
 * the role column (what raw embedders call), and validateState rejects pools that disagree.
 */
import fc from "fast-check";
import { deepEqual, equal } from "node:assert/strict";
import { Ctr, Status } from "../../src/core/abi.ts";
import { resolveCapacity } from "../../src/core/capacity.ts";
import { ScoringCore } from "../../src/core/scoring_core.ts";
import { instantiateCore } from "../../src/wasm/wasm_core.ts";
import { endpointSpecArb, SMALL_CAPACITY } from "./_fleet.ts";

const opArb = fc.oneof(
  fc.record({ endpoint: fc.integer({ min: 0, max: 11 }), spec: endpointSpecArb }),
  fc.record({ count: fc.integer({ min: 0, max: 12 }) }),
);

Deno.test("incremental pools equal rebuildPools after every role change", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
      const { exports, state } = instantiateCore(resolveCapacity(SMALL_CAPACITY));
      const core = new ScoringCore(state, {
        kind: "wasm",
        route: exports.route,
        planMigrations: exports.planMigrations,
      });
      for (const op of ops) {
        if ("count" in op) core.setEndpointCount(op.count);
        else if (op.endpoint < core.endpointCount) core.setEndpoint(op.endpoint, op.spec);
        const snapshot = [
          Array.from(state.prefillPool),
          Array.from(state.decodePool),
          Array.from(state.counters),
        ];
        equal(exports.validateState(), Status.OK);
        equal(exports.rebuildPools(), Status.OK);
        deepEqual(
          [Array.from(state.prefillPool), Array.from(state.decodePool), Array.from(state.counters)],
          snapshot,
        );
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("validateState rejects pools that disagree with the roles", () => {
  const { exports, state } = instantiateCore(resolveCapacity(SMALL_CAPACITY));
  const core = new ScoringCore(state, {
    kind: "wasm",
    route: exports.route,
    planMigrations: exports.planMigrations,
  });
  const gpu = {
    prefillTokensPerMs: 10,
    decodeBaseMs: 10,
    decodeMsPerKvBlock: 0,
    kvCapacityBlocks: 9,
  };
  core.setEndpointCount(3);
  core.setEndpoint(0, { role: "prefill", ...gpu });
  core.setEndpoint(2, { role: "decode", ...gpu });
  equal(exports.validateState(), Status.OK);
  state.role[1] = 3; // written raw, pools not rebuilt
  equal(exports.validateState(), Status.BAD_STATE);
  equal(exports.rebuildPools(), Status.OK);
  deepEqual(Array.from(state.decodePool.subarray(0, state.counters[Ctr.DECODE_POOL_COUNT])), [
    1,
    2,
  ]);
  equal(exports.validateState(), Status.OK);
});
