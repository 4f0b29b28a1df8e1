/**
 * SLO admission holds a request at the router only while waiting can bring the decode step
 * back under the TPOT band within the TTFT SLO (docs/POLICY.md, "Eligibility"). A TPOT SLO
 * below the engines' empty-batch step can never be met: before ABI 8 every request waited out
 * the router queue and was shed (4,000 of 4,000 on the default scenario at 5 ms).
 */
import { equal } from "node:assert/strict";
import { compare } from "./_run.ts";

Deno.test("a TPOT SLO no batch can meet sheds nothing: every request is served", async () => {
  const { optimized } = await compare({
    slo: { ttftMs: 2000, tpotMs: 5 },
    workload: { kind: "preset", name: "chat", overrides: { requests: 400 } },
  }, "optimized");
  equal(optimized.requests.shed, 0);
  equal(optimized.requests.completed, 400);
});
