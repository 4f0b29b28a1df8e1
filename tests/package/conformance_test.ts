/**
 * The embedding API decides exactly as the TS reference on the conformance suite: every core
 * the suite makes is a pair, one built by `createCore` (the constructor the npm package, the
 * simulator and the live router share; WASM) and one by `createCore` with the reference,
 * fed the same calls. Every call's result (decisions, plans, slots, errors) and every property
 * read must be identical, and the suite's own claims must hold.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import type { CoreCapacity } from "../../src/core/abi.ts";
import type { PolicyConfigInput } from "../../src/core/config.ts";
import type { ScoringCore } from "../../src/core/scoring_core.ts";
import { createCore } from "../../src/wasm/wasm_core.ts";
import { policySuite } from "../core/_policy_suite.ts";

let compared = 0;

type Outcome = { value: unknown } | { error: Error };

function outcome(fn: () => unknown): Outcome {
  try {
    return { value: fn() };
  } catch (error) {
    return { error: error as Error };
  }
}

/** `primary` with each call made on `twin` too, and the two results required identical. */
function mirror<T extends object>(primary: T, twin: T, path: string): T {
  return new Proxy(primary, {
    get(target, prop) {
      const name = `${path}.${String(prop)}`;
      const value = Reflect.get(target, prop, target);
      const other = Reflect.get(twin, prop, twin);
      if (prop === "state") return value; // each core's own memory
      if (prop === "sequences") return mirror(value as object, other as object, name);
      if (typeof value !== "function") {
        deepEqual(value, other, name);
        return value;
      }
      return (...args: unknown[]) => {
        const a = outcome(() => value.apply(target, args));
        const b = outcome(() => (other as (...x: unknown[]) => unknown).apply(twin, args));
        compared++;
        if ("error" in a || "error" in b) {
          equal(
            "error" in a ? a.error.message : "no error",
            "error" in b ? b.error.message : "no error",
            `${name}(${JSON.stringify(args)})`,
          );
          throw (a as { error: Error }).error;
        }
        deepEqual(a.value, b.value, `${name}(${JSON.stringify(args)})`);
        return a.value;
      };
    },
  });
}

function paired(config?: PolicyConfigInput, capacity?: Partial<CoreCapacity>): ScoringCore {
  const options = { policy: config, capacity, endpoints: [] };
  const wasm = createCore(options);
  const reference = createCore({ ...options, implementation: "reference" });
  equal(wasm.kind, "wasm");
  equal(reference.kind, "reference");
  return mirror(wasm, reference, "core");
}

policySuite("createCore (wasm) = reference", paired);

Deno.test("the paired suite compared the two cores call by call", () => {
  ok(compared > 1000, `${compared} calls compared`);
});
