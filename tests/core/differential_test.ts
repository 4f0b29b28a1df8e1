/**
 * The TS reference and the WASM core implement one specification: on arbitrary fleets and
 * arbitrary scripts of state updates, routes, sequence churn, migration plans and
 * reconfigurations, they return identical results and leave byte-identical state (every
 * region, scratch included) after every single operation.
 */
import fc from "fast-check";
import { deepStrictEqual } from "node:assert/strict";
import { Ctr, REGIONS } from "../../src/core/abi.ts";
import type { RouteDecision } from "../../src/core/request.ts";
import type { Migration, ScoringCore } from "../../src/core/scoring_core.ts";
import { createReferenceCore } from "../../src/core/reference/mod.ts";
import { createWasmCore } from "../../src/wasm/wasm_core.ts";
import { applyOp, type Op, scenarioArb, setUpFleet, SMALL_CAPACITY } from "./_fleet.ts";

function assertSameState(a: ScoringCore, b: ScoringCore, step: string): void {
  for (const spec of REGIONS) {
    const left = a.state[spec.name];
    const right = b.state[spec.name];
    for (let i = 0; i < left.length; i++) {
      if (!Object.is(left[i], right[i])) {
        throw new Error(
          `after ${step}: region '${spec.name}'[${i}] is ${left[i]} in ${a.kind} but ${
            right[i]
          } in ${b.kind}`,
        );
      }
    }
  }
}

Deno.test("reference and WASM decide identically and keep identical state", () => {
  // Coverage guard: a property that never reaches migrations or prefix hits proves nothing.
  const seen = {
    disaggregated: 0,
    prefixHits: 0,
    migrations: 0,
    noCapacity: 0,
    local: 0,
    sampled: 0,
  };
  fc.assert(
    fc.property(scenarioArb, ({ config, endpoints, ops }) => {
      const reference = createReferenceCore(config, SMALL_CAPACITY);
      const wasm = createWasmCore(config, SMALL_CAPACITY);
      setUpFleet(reference, endpoints);
      setUpFleet(wasm, endpoints);
      assertSameState(reference, wasm, "setup");
      const clocks = { reference: { now: 0 }, wasm: { now: 0 } };
      const open = { reference: [] as number[], wasm: [] as number[] };
      ops.forEach((op, i) => {
        const r = applyOp(reference, op, clocks.reference, open.reference);
        const w = applyOp(wasm, op, clocks.wasm, open.wasm);
        deepStrictEqual(w, r, `op ${i} (${op.kind}) returned different results`);
        assertSameState(reference, wasm, `op ${i} (${op.kind})`);
        count(seen, op, r, reference);
      });
    }),
    { numRuns: 1000 },
  );
  for (const [what, times] of Object.entries(seen)) {
    if (times < 10) throw new Error(`the generator reached '${what}' only ${times} times`);
  }
});

function count(
  seen: Record<
    "disaggregated" | "prefixHits" | "migrations" | "noCapacity" | "local" | "sampled",
    number
  >,
  op: Op,
  result: unknown,
  core: ScoringCore,
): void {
  if (op.kind === "route") {
    const config = core.config;
    const decodePool = core.state.counters[Ctr.DECODE_POOL_COUNT];
    if (
      config.policy === "predictive" && config.candidateSample > 0 &&
      decodePool > config.candidateSample
    ) {
      seen.sampled++;
    }
    const decision = result as RouteDecision;
    if (decision.status !== "ok") seen.noCapacity++;
    else if (decision.disaggregated) seen.disaggregated++;
    else seen.local++;
    if (decision.status === "ok" && decision.uncachedTokens < op.request.promptTokens) {
      seen.prefixHits++;
    }
  }
  if (op.kind === "plan") seen.migrations += (result as Migration[]).length;
}
