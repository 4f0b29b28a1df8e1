/**
 * Router replicas and prefix knowledge in the simulator (src/sim/router_set.ts,
 * src/sim/prefix_knowledge.ts): config errors, one replica is the single router, determinism,
 * and the direction of the knowledge and sync effects on committed slices.
 */
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { resolveSimConfig, SimConfigError } from "../../src/sim/config.ts";
import type { RunSummary } from "../../src/metrics/run_metrics.ts";
import { runComparison } from "../../src/sim/run.ts";
import type { PolicyName } from "../../src/core/policies.ts";
import { engineBlocks } from "../../src/sim/prefix_knowledge.ts";
import { policyFor } from "../../src/sim/run.ts";
import { buildFleet } from "../../src/sim/fleet.ts";
import { RouterSet } from "../../src/sim/router_set.ts";
import { Rng } from "../../src/workload/rng.ts";
import { trace } from "./_run.ts";

const MOONCAKE = "tests/fixtures/data/mooncake_conversation_head2500.jsonl";

async function run(policy: PolicyName, ...layers: unknown[]): Promise<RunSummary> {
  const runs = await runComparison(resolveSimConfig(...layers), {
    policies: [{ label: policy, policy }],
    outDir: null,
    runId: "test",
  });
  return runs[0].summary;
}

const chat = (requests: number) => ({
  workload: { kind: "preset", name: "chat", overrides: { requests } },
});

Deno.test("replica and knowledge config errors name the field and the value", () => {
  const cases: [unknown, RegExp][] = [
    [{ router: { replicas: 0 } }, /'router\.replicas'.*current value is 0/],
    [{ router: { replicas: 2.5 } }, /'router\.replicas'.*current value is 2\.5/],
    [{ router: { replicas: "two" } }, /'router\.replicas'.*current value is "two"/],
    [{ router: { replicas: 65 } }, /'router\.replicas'.*current value is 65/],
    [{ router: { syncDelayMs: -1 } }, /'router\.syncDelayMs'.*current value is -1/],
    [{ router: { syncDelayMs: "soon" } }, /'router\.syncDelayMs'.*current value is "soon"/],
    [{ router: { kvEventDelayMs: -5 } }, /'router\.kvEventDelayMs'.*current value is -5/],
    [
      { router: { prefixKnowledge: "exact" } },
      /'router\.prefixKnowledge'.*current value is "exact"/,
    ],
    [{ router: { replicaSpread: "random" } }, /'router\.replicaSpread'.*current value is "random"/],
    [
      { engine: { prefixBlockTokens: 24 } },
      /'engine\.prefixBlockTokens' must divide 512.*current value is 24/,
    ],
  ];
  for (const [layer, message] of cases) {
    throws(
      () => resolveSimConfig(layer),
      (e: unknown) => e instanceof SimConfigError && message.test(e.message),
      JSON.stringify(layer),
    );
  }
  equal(resolveSimConfig({ router: { syncDelayMs: "none" } }).router.syncDelayMs, null);
  equal(resolveSimConfig({ router: { syncDelayMs: null } }).router.syncDelayMs, null);
});

Deno.test("one replica is the single router, whatever its sync settings", async () => {
  const plain = await run("predictive", chat(600));
  const one = await run("predictive", chat(600), {
    router: { replicas: 1, syncDelayMs: 100, replicaSpread: "session" },
  });
  deepEqual(one, plain);
});

Deno.test("replicas are deterministic: the same seed gives the same results", async () => {
  const layer = { router: { replicas: 4, syncDelayMs: 10, prefixKnowledge: "approximate" } };
  const a = await run("predictive", chat(600), layer);
  const b = await run("predictive", chat(600), layer);
  deepEqual(a, b);
  equal(a.requests.total, 600);
  equal(a.requests.completed + a.requests.shed + a.requests.rejected + a.requests.failed, 600);
});

Deno.test("engine blocks: 512 keeps the workload's blocks, 16 splits them into full blocks", () => {
  const req = { id: 0, arrivalMs: 0, promptTokens: 1000, outputTokens: 1, prefixBlocks: [7, 9] };
  equal(engineBlocks(req, 512), req.prefixBlocks);
  const at16 = engineBlocks(req, 16);
  equal(at16.length, Math.floor(1000 / 16)); // 62: the last 8 tokens are no full block
  const other = engineBlocks({ ...req, promptTokens: 600, prefixBlocks: [7, 11] }, 16);
  deepEqual(other.slice(0, 32), at16.slice(0, 32)); // the shared first block
  ok(other[32] !== at16[32]); // different second blocks
  equal(new Set(at16).size, at16.length);
});

Deno.test("cache pressure: precise knowledge hits the prefix cache at least as often as approximate", async () => {
  const slice = {
    layout: "conditional",
    prefillGpus: 4,
    decodeGpus: 4,
    engine: { prefixBlockTokens: 16, prefixCacheFraction: 0.1 },
    workload: trace("mooncake", MOONCAKE, { maxRequests: 800 }),
  };
  for (const policy of ["predictive", "dynamo-kv"] as const) {
    const precise = await run(policy, slice, { router: { prefixKnowledge: "precise" } });
    const approx = await run(policy, slice, { router: { prefixKnowledge: "approximate" } });
    ok(
      precise.prefix.hitRate >= approx.prefix.hitRate,
      `${policy}: precise ${precise.prefix.hitRate} < approximate ${approx.prefix.hitRate}`,
    );
  }
});

Deno.test("replicas that never sync hit the prefix cache no more often than one shared router", async () => {
  const knowledge = { router: { prefixKnowledge: "approximate" } };
  const shared = await run("sglang-cache-aware", chat(1500), knowledge);
  const apart = await run("sglang-cache-aware", chat(1500), knowledge, {
    router: { replicas: 8, syncDelayMs: null },
  });
  ok(
    apart.prefix.hitRate <= shared.prefix.hitRate,
    `8 unsynced replicas ${apart.prefix.hitRate} > shared ${shared.prefix.hitRate}`,
  );
});

Deno.test("replicas: a disaggregated request's pending sequence is accounted, and synced, until its prefill is done", () => {
  const config = resolveSimConfig({
    layout: "dual",
    prefillGpus: [0],
    decodeGpus: [1],
    router: { replicas: 2, syncDelayMs: 0, implementation: "reference" },
  });
  const fleet = buildFleet(config);
  const set = new RouterSet(
    config,
    fleet,
    policyFor("predictive", config, fleet),
    new Rng(1),
    (_ms, fn) => fn(),
  );
  const [a, b] = set.routers;
  const req = (id: number) => ({
    id,
    arrivalMs: 0,
    promptTokens: 2000,
    outputTokens: 8,
    prefixBlocks: [],
  });
  const r = a.route(req(0), 0)!;
  ok(r.decision.disaggregated);
  const d = r.decision.decode;
  for (const router of [a, b]) {
    equal(router.core.state.pendingSeqs[d], 1);
    equal(router.core.state.pendingKv[d], r.decision.requestKvBlocks);
  }
  a.prefillDone(r);
  for (const router of [a, b]) {
    equal(router.core.state.pendingSeqs[d], 0);
    equal(router.core.state.pendingKv[d], 0);
    equal(router.core.state.activeSeqs[d], 1, "still decoding there");
  }
  a.finished(r, 8, 10, 100);
  // Abandoned (shed) while its prefill was still pending: the pending sequence leaves too.
  const shed = b.route(req(1), 200)!;
  equal(a.core.state.pendingSeqs[shed.decision.decode], 1);
  b.abandoned(shed);
  for (const router of [a, b]) {
    const s = router.core.state;
    deepEqual([...s.pendingSeqs.slice(0, 2)], [0, 0]);
    deepEqual([...s.activeSeqs.slice(0, 2)], [0, 0]);
  }
});
