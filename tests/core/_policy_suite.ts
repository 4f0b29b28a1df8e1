/**
 * One behavioural conformance suite, run against every implementation of the policy
 * (`reference_test.ts`, `wasm_test.ts`). Each case pins a claim of docs/POLICY.md: that an
 * input really moves a decision, that ties do not herd, that budgets hold. No skips.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import type { CoreCapacity } from "../../src/core/abi.ts";
import type { PolicyConfigInput } from "../../src/core/config.ts";
import type { EndpointSpec } from "../../src/core/endpoints.ts";
import { PrefixTier } from "../../src/core/prefix_index.ts";
import type { RouteRequest } from "../../src/core/request.ts";
import type { ScoringCore } from "../../src/core/scoring_core.ts";

export type CoreFactory = (
  config?: PolicyConfigInput,
  capacity?: Partial<CoreCapacity>,
) => ScoringCore;

const GPU: Omit<EndpointSpec, "role"> = {
  prefillTokensPerMs: 10,
  decodeBaseMs: 10,
  decodeMsPerKvBlock: 0.001,
  kvCapacityBlocks: 10000,
};

function fleet(make: CoreFactory, config: PolicyConfigInput, specs: EndpointSpec[]): ScoringCore {
  const core = make(config, { endpoints: 32 });
  core.setEndpointCount(specs.length);
  specs.forEach((spec, i) => core.setEndpoint(i, spec));
  return core;
}

/** Which endpoints a decision lands on over many draws (the state is not changed). */
function spread(
  core: ScoringCore,
  req: RouteRequest,
  side: "prefill" | "decode",
  draws = 64,
): Set<number> {
  const seen = new Set<number>();
  for (let draw = 0; draw < draws; draw++) {
    seen.add(core.route(req, 0, (draw * 2654435761) >>> 0)[side]);
  }
  return seen;
}

/** SLO terms off: the policy minimises predicted ms only. */
const OFF = { ttftMs: 0, tpotMs: 0 };

const LONG: RouteRequest = {
  promptTokens: 4096,
  outputTokens: 64,
  prefixBlocks: [11, 12, 13, 14, 15, 16, 17, 18],
};

export function policySuite(kind: string, make: CoreFactory): void {
  const test = (name: string, fn: () => void) => Deno.test(`[${kind}] ${name}`, fn);

  test("KV locality: cached prefix blocks pull the prefill to the endpoint holding them", () => {
    const core = fleet(make, { disaggregation: "always" }, [
      { role: "prefill", ...GPU },
      { role: "prefill", ...GPU },
      { role: "decode", ...GPU },
    ]);
    deepEqual(spread(core, LONG, "prefill"), new Set([0, 1]), "equal endpoints tie");
    core.addPrefixBlocks(1, [11, 12, 13, 14]);
    deepEqual(spread(core, LONG, "prefill"), new Set([1]));
    equal(core.route(LONG, 0, 7).uncachedTokens, 4096 - 4 * 512);
    // Only a leading run counts: blocks 12..14 without 11 are no hit.
    core.removePrefixBlocks(1, [11]);
    deepEqual(spread(core, LONG, "prefill"), new Set([0, 1]));
  });

  test("host tier: a block held only in CPU memory saves hostTierCredit of its recompute", () => {
    const core = fleet(make, { disaggregation: "always" }, [
      { role: "prefill", ...GPU },
      { role: "prefill", ...GPU },
      { role: "decode", ...GPU },
    ]);
    core.addPrefixBlocks(0, [11, 12, 13, 14], PrefixTier.DEVICE);
    core.addPrefixBlocks(1, [11, 12, 13, 14], PrefixTier.HOST);
    deepEqual(spread(core, LONG, "prefill"), new Set([0]), "device blocks beat host blocks");
    // The 0.75-credited host copy costs 512 more tokens of prefill: a 300-token queue on
    // endpoint 0 leaves it ahead, an 800-token queue tips the choice.
    core.setLoad(0, { queuedPrefillTokens: 300 });
    deepEqual(spread(core, LONG, "prefill"), new Set([0]));
    core.setLoad(0, { queuedPrefillTokens: 800 });
    deepEqual(spread(core, LONG, "prefill"), new Set([1]));
    equal(core.route(LONG, 0, 7).uncachedTokens, 4096 - 4 * 512 * 0.75);
    // One host block in the run: the leading blocks on the device count in full.
    core.addPrefixBlocks(1, [11, 12, 13], PrefixTier.DEVICE);
    equal(core.route(LONG, 0, 7).uncachedTokens, 4096 - 3 * 512 - 512 * 0.75);
    // Credit 1 (no tiers) and credit 0 (a host block is no hit).
    const flat = fleet(make, { disaggregation: "always", hostTierCredit: 1 }, [
      { role: "prefill", ...GPU },
      { role: "decode", ...GPU },
    ]);
    flat.addPrefixBlocks(0, [11, 12], PrefixTier.HOST);
    equal(flat.route(LONG, 0, 7).uncachedTokens, 4096 - 2 * 512);
    const none = fleet(make, { disaggregation: "always", hostTierCredit: 0 }, [
      { role: "prefill", ...GPU },
      { role: "decode", ...GPU },
    ]);
    none.addPrefixBlocks(0, [11, 12], PrefixTier.HOST);
    equal(none.route(LONG, 0, 7).uncachedTokens, 4096);
    // Back to the device tier, and evicted: the node's tier does not outlive it.
    none.addPrefixBlocks(0, [11, 12], PrefixTier.DEVICE);
    equal(none.route(LONG, 0, 7).uncachedTokens, 4096 - 2 * 512);
    none.removePrefixBlocks(0, [11, 12]);
    none.addPrefixBlocks(0, [11, 12]);
    equal(none.route(LONG, 0, 7).uncachedTokens, 4096 - 2 * 512);
  });

  test("host KV slab: free slab blocks make a full decode endpoint eligible again", () => {
    const specs: EndpointSpec[] = [
      { role: "both", ...GPU, decodeBaseMs: 5, slabMsPerBlock: 0.0001 },
      { role: "both", ...GPU, decodeBaseMs: 9 },
    ];
    const core = fleet(make, { disaggregation: "never", decodeKvUsageLimit: 0.9 }, specs);
    core.setLoad(0, { activeKvBlocks: 8990 });
    core.setLoad(1, { activeKvBlocks: 8000 });
    const req: RouteRequest = { promptTokens: 1024, outputTokens: 128 };
    deepEqual(spread(core, req, "decode"), new Set([1]), "endpoint 0 lacks KV room");
    core.setLoad(0, { hostKvFreeBlocks: 5000 });
    deepEqual(spread(core, req, "decode"), new Set([0]), "its host slab absorbs the overflow");
  });

  test("NUMA: a slab on a distant NUMA node (dearer per block) changes the decode pick", () => {
    const near = { role: "both" as const, ...GPU, slabMsPerBlock: 0.01, numaNode: 0 };
    const core = fleet(make, { disaggregation: "never", decodeKvUsageLimit: 0.5 }, [
      near,
      { ...near, numaNode: 1 },
    ]);
    for (const e of [0, 1]) core.setLoad(e, { activeKvBlocks: 5000, hostKvFreeBlocks: 10000 });
    const req: RouteRequest = { promptTokens: 1024, outputTokens: 512 };
    deepEqual(spread(core, req, "decode"), new Set([0, 1]));
    // The host maps NUMA distance 21 vs 10 into the per-block slab cost of endpoint 1.
    core.setEndpoint(1, { ...near, numaNode: 1, slabMsPerBlock: 0.01 * 2.1 });
    core.setLoad(1, { activeKvBlocks: 5000, hostKvFreeBlocks: 10000 });
    deepEqual(spread(core, req, "decode"), new Set([0]));
  });

  test("NUMA and GPU links: the prefill endpoint nearest the decode endpoint wins", () => {
    const core = fleet(make, { disaggregation: "always" }, [
      { role: "prefill", ...GPU, hostId: 0, numaNode: 0 },
      { role: "prefill", ...GPU, hostId: 0, numaNode: 1 },
      { role: "decode", ...GPU, hostId: 0, numaNode: 1 },
    ]);
    deepEqual(spread(core, LONG, "prefill"), new Set([1]), "same NUMA node beats cross-NUMA");
    core.setEndpoint(2, { role: "decode", ...GPU, hostId: 0, numaNode: 0 });
    deepEqual(spread(core, LONG, "prefill"), new Set([0]), "moving the decode GPU flips it");
    core.setEndpoint(1, { role: "prefill", ...GPU, hostId: 0, numaNode: 1, nvlinkDomain: 0 });
    core.setEndpoint(2, { role: "decode", ...GPU, hostId: 0, numaNode: 0, nvlinkDomain: 0 });
    deepEqual(spread(core, LONG, "prefill"), new Set([1]), "an NVLink peer beats PCIe");
  });

  test("topology moves the decode pick too: remote prefill cost depends on where d sits", () => {
    const core = fleet(make, { disaggregation: "always" }, [
      { role: "prefill", ...GPU, hostId: 0 },
      { role: "decode", ...GPU, hostId: 0 },
      { role: "decode", ...GPU, hostId: 1 },
    ]);
    deepEqual(spread(core, LONG, "decode"), new Set([1]), "the network hop costs TTFT");
  });

  test("an observed TPOT ratio scales the decode step while fresh, and is ignored once stale", () => {
    const core = fleet(make, { disaggregation: "never", telemetryMaxAgeMs: 1000 }, [
      { role: "both", ...GPU },
      { role: "both", ...GPU },
    ]);
    const req: RouteRequest = { promptTokens: 256, outputTokens: 256 };
    core.setLoad(0, { tpotObservedRatio: 2, tpotObservedAtMs: 0 });
    const picks = new Set<number>();
    for (let d = 0; d < 32; d++) picks.add(core.route(req, 500, d * 977).decode);
    deepEqual(picks, new Set([1]));
    const stale = new Set<number>();
    for (let d = 0; d < 32; d++) stale.add(core.route(req, 5000, d * 977).decode);
    deepEqual(stale, new Set([0, 1]));
  });

  test("a decision reports its TTFT and TPOT with and without the observed factors", () => {
    const core = fleet(make, {
      disaggregation: "never",
      ttftObservedWeight: 1,
      tpotObservedWeight: 0.5,
    }, [{ role: "both", ...GPU }]);
    core.setLoad(0, {
      ttftObservedRatio: 3,
      ttftObservedAtMs: 0,
      tpotObservedRatio: 5,
      tpotObservedAtMs: 0,
    });
    const d = core.route({ promptTokens: 1000, outputTokens: 100 }, 10, 0);
    // 1000 tokens at 10 tokens/ms, plus half of the 10 ms step in progress.
    equal(d.ttftModelMs, 100 + 5);
    // The compute x 3; the step (the wait) x 1 + 0.5 * (5 - 1).
    equal(d.ttftMs, 300 + 0.5 * 30);
    equal(d.tpotMs, d.tpotModelMs * 3, "1 + 0.5 * (5 - 1)");
  });

  test("a prefill takes at least the decode step it rides, plus half a step of waiting", () => {
    const core = fleet(make, { disaggregation: "never" }, [
      { role: "both", ...GPU, decodeMsPerKvBlock: 0.01 },
    ]);
    const short = { promptTokens: 100, outputTokens: 10 };
    equal(core.route(short, 0, 0).ttftMs, 10 + 5, "idle: 10 ms of compute, 10 ms step");
    // 4,000 resident blocks: a 50 ms step; the 10 ms of compute rides a 50 ms step.
    core.setLoad(0, { activeSeqs: 40, activeKvBlocks: 4000 });
    equal(core.route(short, 0, 0).ttftMs, 50 + 25);
    // A long prompt's compute exceeds the step: compute plus the wait.
    equal(core.route({ promptTokens: 2000, outputTokens: 10 }, 0, 0).ttftMs, 200 + 25);
  });

  test("an observed TTFT ratio scales the predicted prefill time while fresh", () => {
    const core = fleet(make, { disaggregation: "always", ttftObservedWeight: 1 }, [
      { role: "prefill", ...GPU },
      { role: "prefill", ...GPU },
      { role: "decode", ...GPU },
    ]);
    core.setLoad(0, { ttftObservedRatio: 3, ttftObservedAtMs: 0 });
    deepEqual(spread(core, LONG, "prefill"), new Set([1]));
  });

  test("observations scale the model but never hide load: with equal ratios the less loaded endpoint wins", () => {
    // Regression: as floors (ABI <= 3), observations well above the model made both endpoints
    // score the same whatever their load, and the live router herded onto one engine.
    const core = fleet(make, { disaggregation: "never", ttftObservedWeight: 1 }, [
      { role: "both", ...GPU },
      { role: "both", ...GPU },
    ]);
    for (const e of [0, 1]) {
      core.setLoad(e, {
        ttftObservedRatio: 3,
        ttftObservedAtMs: 0,
        tpotObservedRatio: 3,
        tpotObservedAtMs: 0,
      });
    }
    core.setLoad(0, { activeSeqs: 40, activeKvBlocks: 4000, queuedPrefillTokens: 8000 });
    core.setLoad(1, { activeSeqs: 30, activeKvBlocks: 3000, queuedPrefillTokens: 6000 });
    const picks = new Set<number>();
    for (let d = 0; d < 32; d++) {
      picks.add(core.route({ promptTokens: 512, outputTokens: 128 }, 100, d * 977).decode);
    }
    deepEqual(picks, new Set([1]));
  });

  test("ties do not herd: equal endpoints share the picks roughly evenly", () => {
    const n = 8;
    const core = fleet(
      make,
      { disaggregation: "never" },
      Array.from({ length: n }, () => ({ role: "both" as const, ...GPU })),
    );
    const counts = new Array(n).fill(0);
    for (let draw = 0; draw < 800; draw++) {
      counts[
        core.route({ promptTokens: 100, outputTokens: 10 }, 0, (draw * 2654435761) >>> 0).decode
      ]++;
    }
    for (const c of counts) ok(c > 50 && c < 150, `picks per endpoint ${counts}`);
  });

  test("dispatch accounting spreads a burst instead of herding it", () => {
    const n = 4;
    const core = fleet(
      make,
      { disaggregation: "never" },
      Array.from({ length: n }, () => ({ role: "both" as const, ...GPU })),
    );
    const counts = new Array(n).fill(0);
    for (let i = 0; i < 200; i++) {
      const d = core.route({ promptTokens: 2000, outputTokens: 200 }, 0, i);
      counts[d.decode]++;
      core.addLoad(d.decode, d.uncachedTokens, 1, d.requestKvBlocks);
    }
    ok(Math.max(...counts) - Math.min(...counts) <= 2, `burst split ${counts}`);
  });

  test("conditional disaggregation: short prompts stay local, long ones go remote, a full pool spills over", () => {
    const core = fleet(make, {
      disaggregation: "conditional",
      localPrefillMaxTokens: 512,
      prefillQueueLimitTokens: 10000,
    }, [
      { role: "prefill", ...GPU, prefillTokensPerMs: 40 },
      { role: "decode", ...GPU },
    ]);
    const short = core.route({ promptTokens: 200, outputTokens: 50 }, 0, 1);
    equal(short.disaggregated, false);
    const long = core.route({ promptTokens: 8000, outputTokens: 50 }, 0, 1);
    equal(long.disaggregated, true);
    equal(long.prefill, 0);
    core.setLoad(0, { queuedPrefillTokens: 20000 });
    const spilled = core.route({ promptTokens: 8000, outputTokens: 50 }, 0, 1);
    equal(spilled.disaggregated, false, "prefill pool over its queue limit");
  });

  test("interference: a busy decode endpoint's running sequences push a long prefill to the prefill pool", () => {
    const specs: EndpointSpec[] = [{ role: "prefill", ...GPU }, { role: "decode", ...GPU }];
    const req: RouteRequest = { promptTokens: 4000, outputTokens: 100 };
    // The ms term alone (SLO terms off), as a pure marginal-cost policy sees it.
    const core = fleet(
      make,
      { disaggregation: "conditional", interferenceWeight: 0, slo: OFF },
      specs,
    );
    core.setLoad(0, { queuedPrefillTokens: 3000 }); // the prefill pool has a short queue
    core.setLoad(1, { activeSeqs: 40, activeKvBlocks: 2000 });
    equal(core.route(req, 0, 1).disaggregated, false, "own latency alone: prefill locally");
    core.configure({ disaggregation: "conditional", interferenceWeight: 1, slo: OFF });
    const d = core.route(req, 0, 1);
    equal(d.disaggregated, true, "40 stalled sequences outweigh the queue");
    ok(d.costMs > d.ttftMs + 100 * d.tpotMs, "cost includes the delay imposed on others");
  });

  test("interference: extra KV on a crowded decode endpoint costs its running sequences", () => {
    const decode: EndpointSpec = { role: "decode", ...GPU, decodeMsPerKvBlock: 0.01 };
    const specs: EndpointSpec[] = [{ role: "prefill", ...GPU }, decode, decode];
    const req: RouteRequest = { promptTokens: 1000, outputTokens: 500 };
    const core = fleet(make, { disaggregation: "always", interferenceWeight: 1, slo: OFF }, specs);
    // Same KV and step time on both; endpoint 1 shares it among many more sequences.
    core.setLoad(1, { activeSeqs: 60, activeKvBlocks: 3000 });
    core.setLoad(2, { activeSeqs: 2, activeKvBlocks: 3000 });
    deepEqual(spread(core, req, "decode"), new Set([2]));
    core.configure({ disaggregation: "always", interferenceWeight: 0, slo: OFF });
    const picks = spread(core, req, "decode");
    ok(picks.has(1), "without the interference term the crowding is invisible");
  });

  test("interference on a shared pool: the smaller batch does not take the long prompts", () => {
    // Every prefill on a shared pool stalls a batch wherever it runs: it is priced at the
    // members' mean batch, so the queue decides (the KV still costs the batch it joins).
    const shared: EndpointSpec = { role: "both", ...GPU, decodeMsPerKvBlock: 0.01 };
    const core = fleet(make, { disaggregation: "never", interferenceWeight: 1, slo: OFF }, [
      shared,
      shared,
    ]);
    const req: RouteRequest = { promptTokens: 5000, outputTokens: 2 };
    // 1 decodes 2 sequences but has 10,000 tokens (1 s) queued; 0 decodes 60 with none. Priced
    // at each one's own batch, the 500 ms stall would cost 0 58 x 500 ms more; the request's
    // 2 tokens of KV cost 0's 58 extra sequences ~360 ms.
    core.setLoad(0, { activeSeqs: 60, activeKvBlocks: 3000 });
    core.setLoad(1, { activeSeqs: 2, activeKvBlocks: 3000, queuedPrefillTokens: 10000 });
    deepEqual(spread(core, req, "decode"), new Set([0]));
    // Where the prefill can go remote, a local one costs d's own batch (conditional).
    const core2 = fleet(make, {
      disaggregation: "conditional",
      localPrefillMaxTokens: 512,
      interferenceWeight: 1,
      slo: OFF,
    }, [{ role: "prefill", ...GPU }, shared]);
    core2.setLoad(0, { queuedPrefillTokens: 4000 });
    core2.setLoad(1, { activeSeqs: 60, activeKvBlocks: 3000 });
    equal(core2.route(req, 0, 1).disaggregated, true, "60 stalled sequences: wait for 0");
    core2.setLoad(1, { activeSeqs: 0, activeKvBlocks: 0 });
    equal(core2.route(req, 0, 1).disaggregated, false, "an idle batch: prefill locally");
  });

  test("SLO: co-runners near their TPOT SLO make a long local prefill pay for their misses", () => {
    // 40 sequences decode on 1; a 6,000-token local prefill would stall each of them 600 ms.
    const specs: EndpointSpec[] = [{ role: "prefill", ...GPU }, {
      role: "decode",
      ...GPU,
      decodeMsPerKvBlock: 0.01,
    }];
    const req: RouteRequest = { promptTokens: 6000, outputTokens: 40 };
    const core = fleet(make, { interferenceWeight: 0, slo: OFF }, specs);
    core.setLoad(0, { queuedPrefillTokens: 6000 });
    core.setLoad(1, { activeSeqs: 40, activeKvBlocks: 2000 });
    equal(core.route(req, 0, 1).disaggregated, false, "without SLOs the shorter own TTFT wins");
    // Step 10 + 0.01 x 2,400 = 34 ms against a 40 ms TPOT SLO: 6 ms of headroom.
    core.configure({ interferenceWeight: 0, slo: { ttftMs: 5000, tpotMs: 40 } });
    equal(core.route(req, 0, 1).disaggregated, true, "the co-runners' headroom is priced");
    // With ample headroom the same stall costs no miss, and the local path is back.
    core.configure({ interferenceWeight: 0, slo: { ttftMs: 5000, tpotMs: 1000 } });
    equal(core.route(req, 0, 1).disaggregated, false, "ample headroom: nothing to protect");
  });

  test("SLO: a request late on every path gains nothing by its own TTFT, so it spares busy decode time", () => {
    const specs: EndpointSpec[] = [{ role: "prefill", ...GPU }, { role: "decode", ...GPU }];
    const req: RouteRequest = { promptTokens: 8000, outputTokens: 50 };
    // Both paths are far past a 100 ms TTFT SLO; locally 5 sequences would stall 800 ms each.
    const core = fleet(make, { interferenceWeight: 0.3, slo: { ttftMs: 100, tpotMs: 500 } }, specs);
    core.setLoad(0, { queuedPrefillTokens: 12000 });
    core.setLoad(1, { activeSeqs: 5, activeKvBlocks: 100 });
    equal(core.route(req, 0, 1).disaggregated, true, "late anyway: do not take d's time");
    core.configure({ interferenceWeight: 0.3, slo: OFF });
    equal(core.route(req, 0, 1).disaggregated, false, "pure ms: the local prefill is shorter");
  });

  test("SLO admission: no endpoint is lifted past the TPOT SLO; the request waits instead", () => {
    const core = fleet(make, { disaggregation: "never", slo: { ttftMs: 2000, tpotMs: 20 } }, [
      { role: "both", ...GPU, decodeMsPerKvBlock: 0.01 },
      { role: "both", ...GPU, decodeMsPerKvBlock: 0.01 },
    ]);
    const req: RouteRequest = { promptTokens: 1000, outputTokens: 100 };
    // Endpoint 0 steps at 10 + 0.01 x 1,400 = 24 ms with the request: past 20 x 1.1.
    core.setLoad(0, { activeSeqs: 10, activeKvBlocks: 1330 });
    deepEqual(spread(core, req, "decode"), new Set([1]));
    core.setLoad(1, { activeSeqs: 10, activeKvBlocks: 1330 });
    equal(core.route(req, 0, 1).status, "no-decode-capacity");
    // KV still pending (requests prefilling elsewhere) neither fills KV nor lifts the step.
    core.setLoad(1, { activeKvBlocks: 1330, pendingKvBlocks: 1330 });
    equal(core.route(req, 0, 1).decode, 1);
    core.configure({ disaggregation: "never", slo: OFF });
    equal(core.route(req, 0, 1).status, "ok", "without SLOs only KV limits admission");
  });

  test("the step's per-sequence term: sequences lift the step, pending ones do not admit", () => {
    const perSeq = { role: "both" as const, ...GPU, decodeMsPerSeq: 0.5 };
    const core = fleet(make, { disaggregation: "never", slo: OFF }, [perSeq, perSeq]);
    const req: RouteRequest = { promptTokens: 100, outputTokens: 100 };
    // Equal KV: 30 sequences on 0 step 0.5 x 20 = 10 ms slower than 10 on 1.
    core.setLoad(0, { activeSeqs: 30, activeKvBlocks: 300 });
    core.setLoad(1, { activeSeqs: 10, activeKvBlocks: 300 });
    deepEqual(spread(core, req, "decode"), new Set([1]));
    const d = core.route(req, 0, 1);
    equal(d.tpotMs, 10 + 0.001 * (300 + d.requestKvBlocks) + 0.5 * 11);
    // SLO admission (tpot 20 ms, band 0.1): 1 steps at 10 + 0.5 x 31 = 25.5 > 22 with the
    // request, unless 20 of its sequences are still prefilling elsewhere.
    core.configure({ disaggregation: "never", slo: { ttftMs: 2000, tpotMs: 20 } });
    core.setLoad(0, { activeSeqs: 30, activeKvBlocks: 0 });
    core.setLoad(1, { activeSeqs: 30, activeKvBlocks: 0 });
    equal(core.route(req, 0, 1).status, "no-decode-capacity");
    core.setLoad(1, { pendingSeqs: 20 });
    equal(core.route(req, 0, 1).decode, 1);
  });

  test("SLO admission holds a request only while enough sequences can finish within the TTFT SLO", () => {
    const core = fleet(make, { disaggregation: "never", slo: { ttftMs: 2000, tpotMs: 20 } }, [
      { role: "both", ...GPU, decodeMsPerKvBlock: 0.01 },
    ]);
    // 10 + 0.01 x (1,330 + reqKv) ~ 24 ms, 2 ms past 22: with 100 output tokens the step is
    // back under the band in 2 x 100 x 24 / 14 = 343 ms of finishing sequences, so it waits.
    core.setLoad(0, { activeSeqs: 10, activeKvBlocks: 1330 });
    equal(core.route({ promptTokens: 1000, outputTokens: 100 }, 0, 1).status, "no-decode-capacity");
    // With 1,000 output tokens that takes ~3.4 s, past the 2 s TTFT SLO: waiting cannot work.
    equal(core.route({ promptTokens: 1000, outputTokens: 1000 }, 0, 1).decode, 0);
    // A base step alone past the band never drains: the request goes.
    core.setEndpoint(0, { role: "both", ...GPU, decodeBaseMs: 30 });
    equal(core.route({ promptTokens: 1000, outputTokens: 100 }, 0, 1).decode, 0);
  });

  test("SLO admission does not count on the finishing of sequences the router did not place", () => {
    const core = fleet(make, { disaggregation: "never", slo: { ttftMs: 2000, tpotMs: 20 } }, [
      { role: "both", ...GPU, decodeMsPerKvBlock: 0.01 },
    ]);
    const req: RouteRequest = { promptTokens: 1000, outputTokens: 100 };
    // As above, ~343 ms of finishing sequences; with 5 of the 10 external, only the router's 5
    // (and the request) free room as they finish: 11 / 6 x 343 ~ 629 ms, so it still waits.
    core.setLoad(0, { activeSeqs: 10, activeKvBlocks: 1330, externalSeqs: 5 });
    equal(core.route(req, 0, 1).status, "no-decode-capacity");
    // All 10 someone else's: their clients refill what they free, 11 x 343 ms > 2 s: it goes.
    core.setLoad(0, { externalSeqs: 10 });
    equal(core.route(req, 0, 1).decode, 0);
  });

  test("SLO admission holds only while the observed step is past the band too", () => {
    const core = fleet(make, { disaggregation: "never", slo: { ttftMs: 2000, tpotMs: 20 } }, [
      { role: "both", ...GPU, decodeMsPerKvBlock: 0.01 },
    ]);
    const req: RouteRequest = { promptTokens: 1000, outputTokens: 100 };
    // The model steps ~24 ms (past 22); measured at 0.5x the model the engine steps ~12 ms.
    core.setLoad(0, {
      activeSeqs: 10,
      activeKvBlocks: 1330,
      tpotObservedRatio: 0.5,
      tpotObservedAtMs: 0,
    });
    equal(core.route(req, 0, 1).decode, 0, "faster than its model: nothing to wait for");
    // At 1.05x (~25 ms) waiting works: (25.2 - 22) x 100 x 24 / 14 ~ 550 ms.
    core.setLoad(0, { tpotObservedRatio: 1.05 });
    equal(core.route(req, 0, 1).status, "no-decode-capacity");
    // At 2x (~48 ms) the measured step needs ~4.5 s of finishing sequences: it goes.
    core.setLoad(0, { tpotObservedRatio: 2 });
    equal(core.route(req, 0, 1).decode, 0, "slower than its model: waiting cannot work");
    // Stale (past telemetryMaxAgeMs) it is the model alone: it waits.
    equal(core.route(req, 5000, 1).status, "no-decode-capacity");
  });

  test("seats: a decode endpoint at its max_num_seqs costs the wait for a seat", () => {
    const core = fleet(make, { disaggregation: "never", slo: OFF }, [
      { role: "both", ...GPU, maxNumSeqs: 8 },
      { role: "both", ...GPU, maxNumSeqs: 8 },
    ]);
    const req: RouteRequest = { promptTokens: 100, outputTokens: 100 };
    // 0 is less loaded in KV but full in seats: the wait (one finish ~ 100 x step / 8) counts.
    core.setLoad(0, { activeSeqs: 8, activeKvBlocks: 100 });
    core.setLoad(1, { activeSeqs: 7, activeKvBlocks: 600 });
    deepEqual(spread(core, req, "decode"), new Set([1]));
    core.setEndpoint(0, { role: "both", ...GPU });
    core.setLoad(0, { activeSeqs: 8, activeKvBlocks: 100 });
    deepEqual(spread(core, req, "decode"), new Set([0]), "no seat limit known: KV decides");
  });

  test("dual pools: spillover is priced against waiting, not forced by a queue length", () => {
    const specs: EndpointSpec[] = [{ role: "prefill", ...GPU }, { role: "decode", ...GPU }];
    const core = fleet(make, { disaggregation: "always" }, specs);
    const req: RouteRequest = { promptTokens: 2000, outputTokens: 50 };
    core.setLoad(1, { activeSeqs: 2, activeKvBlocks: 100 });
    equal(core.route(req, 0, 1).disaggregated, true, "an idle prefill pool: no spill");
    // 40,000 queued tokens: 4 s of waiting against a 2 s TTFT SLO, and d has headroom.
    core.setLoad(0, { queuedPrefillTokens: 40000 });
    equal(core.route(req, 0, 1).disaggregated, false, "waiting would miss the SLO: spill");
    core.configure({ disaggregation: "always", slo: OFF });
    equal(core.route(req, 0, 1).disaggregated, true, "without SLOs nothing is late: wait");
  });

  test("dual pools without spillover report no prefill capacity clearly", () => {
    const core = fleet(make, { disaggregation: "always", allowSpillover: false }, [
      { role: "prefill", ...GPU },
      { role: "decode", ...GPU },
    ]);
    core.setLoad(0, { healthy: false });
    const d = core.route(LONG, 0, 1);
    equal(d.status, "no-prefill-capacity");
    equal(d.prefill, -1);
    core.configure({ disaggregation: "always", allowSpillover: true });
    const spilled = core.route(LONG, 0, 1);
    equal(spilled.status, "ok");
    equal(spilled.prefill, 1);
  });

  test("no healthy decode endpoint: a clear no-capacity result, never a pick", () => {
    const core = fleet(make, {}, [{ role: "both", ...GPU }, { role: "prefill", ...GPU }]);
    core.setLoad(0, { healthy: false });
    const d = core.route(LONG, 0, 3);
    equal(d.status, "no-decode-capacity");
    deepEqual([d.prefill, d.decode], [-1, -1]);
  });

  test("candidate sampling scores k endpoints plus every prefix hit, never refusing capacity", () => {
    const n = 16;
    const both = Array.from({ length: n }, () => ({ role: "both" as const, ...GPU }));
    const config = {
      disaggregation: "never" as const,
      candidateSample: 2,
      tieWindowMs: 0,
      tieWindowRelative: 0,
    };
    const core = fleet(make, config, both);
    // Endpoint e queues e * 1000 tokens: the exhaustive pick is always 0.
    for (let e = 0; e < n; e++) core.setLoad(e, { queuedPrefillTokens: e * 1000 });
    const req: RouteRequest = { promptTokens: 1024, outputTokens: 16, prefixBlocks: [41, 42] };
    const sampled = spread(core, req, "decode", 256);
    ok(sampled.size > 4, `each decision sees only its sample: picks ${[...sampled]}`);
    ok(!sampled.has(n - 1), "the worst endpoint loses to any other sampled one");
    // A prefix hit is always scored: endpoint 9 caching the prompt wins every decision.
    for (let e = 0; e < n; e++) core.setLoad(e, { queuedPrefillTokens: 0 });
    core.addPrefixBlocks(9, [41, 42]);
    deepEqual(spread(core, req, "decode"), new Set([9]));
    // A sample with no room falls back to the whole pool: the one endpoint with room wins.
    core.removeEndpointBlocks(9);
    for (let e = 0; e < n; e++) core.setLoad(e, { activeKvBlocks: e === 5 ? 0 : 9999 });
    deepEqual(spread(core, req, "decode"), new Set([5]));
    // k >= the pool size is exhaustive.
    core.configure({ ...config, candidateSample: n });
    for (let e = 0; e < n; e++) core.setLoad(e, { activeKvBlocks: 0, queuedPrefillTokens: e });
    deepEqual(spread(core, req, "decode"), new Set([0]));
  });

  test("candidate sampling keeps every prefill endpoint with a prefix hit in the prefill stage", () => {
    const prefill = Array.from({ length: 16 }, () => ({ role: "prefill" as const, ...GPU }));
    const core = fleet(make, { disaggregation: "always", candidateSample: 2 }, [
      ...prefill,
      { role: "decode", ...GPU },
    ]);
    ok(spread(core, LONG, "prefill").size > 4, "without a hit the sample decides");
    core.addPrefixBlocks(11, [11, 12, 13, 14]);
    deepEqual(spread(core, LONG, "prefill"), new Set([11]));
  });

  test("migration fixes a hot spot, within the budget per window of the caller's clock", () => {
    const core = fleet(make, {
      migration: { budget: 3, windowMs: 1000, gapMs: 10, maxMovesPerPlan: 8 },
    }, [
      { role: "decode", ...GPU, decodeMsPerKvBlock: 0.01 },
      { role: "decode", ...GPU, decodeMsPerKvBlock: 0.01 },
    ]);
    for (let i = 0; i < 10; i++) {
      core.sequences.open(0, 400, 500);
      core.addLoad(0, 0, 1, 400);
    }
    const first = core.planMigrations(0, 1);
    equal(first.length, 3, "budget caps the first plan");
    for (const m of first) deepEqual([m.from, m.to], [0, 1]);
    equal(core.planMigrations(999, 2).length, 0, "window still full");
    const later = core.planMigrations(1000, 3);
    ok(later.length > 0 && later.length <= 3, "window rolled over");
    equal(core.state.activeSeqs[0] + core.state.activeSeqs[1], 10, "sequences are conserved");
  });

  test("migration moves work onto decode-only endpoints, never onto a shared one", () => {
    const core = fleet(make, { migration: { budget: 8, gapMs: 0, maxMovesPerPlan: 8 } }, [
      { role: "both", ...GPU, decodeMsPerKvBlock: 0.01 },
      { role: "both", ...GPU, decodeMsPerKvBlock: 0.01 },
    ]);
    for (let i = 0; i < 10; i++) {
      core.sequences.open(0, 400, 500);
      core.addLoad(0, 0, 1, 400);
    }
    equal(
      core.planMigrations(0, 1).length,
      0,
      "a shared pool: the target would also be prefilling",
    );
    core.setEndpointCount(3);
    core.setEndpoint(2, { role: "decode", ...GPU, decodeMsPerKvBlock: 0.01 });
    const moves = core.planMigrations(1, 1);
    ok(moves.length > 0 && moves.every((m) => m.to === 2), JSON.stringify(moves));
  });

  test("no migration below the gap, and none under round robin", () => {
    const config = { migration: { budget: 8, gapMs: 1e9 } };
    const core = fleet(make, config, [{ role: "decode", ...GPU, decodeMsPerKvBlock: 0.01 }, {
      role: "decode",
      ...GPU,
    }]);
    for (let i = 0; i < 10; i++) {
      core.sequences.open(0, 400, 500);
      core.addLoad(0, 0, 1, 400);
    }
    equal(core.planMigrations(0, 1).length, 0);
    core.configure({ policy: "round-robin" });
    equal(core.planMigrations(1, 1).length, 0);
  });

  test("round robin cycles fairly over healthy endpoints of each pool", () => {
    const core = fleet(make, { policy: "round-robin", disaggregation: "always" }, [
      { role: "prefill", ...GPU },
      { role: "decode", ...GPU },
      { role: "prefill", ...GPU },
      { role: "decode", ...GPU },
      { role: "decode", ...GPU },
    ]);
    core.setLoad(3, { healthy: false });
    const prefill: number[] = [], decode: number[] = [];
    for (let i = 0; i < 4; i++) {
      const d = core.route(LONG, 0, 0);
      prefill.push(d.prefill);
      decode.push(d.decode);
    }
    deepEqual(prefill.toSorted(), [0, 0, 2, 2]);
    deepEqual(decode.toSorted(), [1, 1, 4, 4]);
  });
}
