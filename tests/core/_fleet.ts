/**
 * fast-check arbitraries for fleets, loads, requests and whole operation scripts, plus an
 * interpreter that applies a script to any `ScoringCore`. Shared by the differential and
 * invariant suites. Values are drawn from small sets on purpose: equal costs (ties) and full
 * capacities are where implementations diverge.
 */
import fc from "fast-check";
import type { CoreCapacity } from "../../src/core/abi.ts";
import type { PolicyConfigInput } from "../../src/core/config.ts";
import type { EndpointLoad, EndpointSpec } from "../../src/core/endpoints.ts";
import { PrefixTier, type PrefixTierCode } from "../../src/core/prefix_index.ts";
import type { RouteRequest } from "../../src/core/request.ts";
import type { ScoringCore } from "../../src/core/scoring_core.ts";

export const SMALL_CAPACITY: Partial<CoreCapacity> = {
  endpoints: 12,
  sequences: 24,
  prefixEntries: 48,
  requestBlocks: 8,
  hosts: 3,
  numaPerHost: 2,
  domains: 3,
  moves: 4,
  migrationBudget: 8,
};

const wide = fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true });

export const endpointSpecArb: fc.Arbitrary<EndpointSpec> = fc.record({
  role: fc.constantFrom("prefill", "decode", "both"),
  hostId: fc.integer({ min: 0, max: 2 }),
  numaNode: fc.integer({ min: 0, max: 1 }),
  nvlinkDomain: fc.integer({ min: -1, max: 2 }),
  prefillTokensPerMs: fc.oneof(
    fc.constantFrom(5, 10, 20),
    fc.double({ min: 0.01, max: 1e4, noNaN: true }),
  ),
  decodeBaseMs: fc.oneof(fc.constantFrom(5, 10), fc.double({ min: 0, max: 100, noNaN: true })),
  decodeMsPerKvBlock: fc.constantFrom(0, 0.001, 0.01),
  decodeMsPerSeq: fc.constantFrom(0, 0.05, 0.3, 1),
  kvCapacityBlocks: fc.oneof(fc.constantFrom(100, 1000, 100000), fc.integer({ min: 1, max: 1e9 })),
  slabMsPerBlock: fc.constantFrom(0, 0.01, 0.1),
  costPerHour: fc.constantFrom(0, 2, 4),
  maxNumSeqs: fc.constantFrom(0, 4, 64),
  maxBatchedTokens: fc.constantFrom(0, 2048, 8192),
});

export const loadArb: fc.Arbitrary<EndpointLoad> = fc.record({
  healthy: fc.boolean(),
  queuedPrefillTokens: fc.oneof(fc.constantFrom(0, 1000, 70000), wide),
  activeSeqs: fc.integer({ min: 0, max: 50 }),
  activeKvBlocks: fc.oneof(fc.constantFrom(0, 90, 950), fc.integer({ min: 0, max: 200000 })),
  hostKvFreeBlocks: fc.constantFrom(0, 50, 10000),
  ttftObservedRatio: fc.constantFrom(0, 0.4, 1, 3, 1000),
  ttftObservedAtMs: fc.constantFrom(0, 500, 5000),
  tpotObservedRatio: fc.constantFrom(0, 0.5, 1, 2.5, 1000),
  tpotObservedAtMs: fc.constantFrom(0, 500, 5000),
  prefillSeqs: fc.integer({ min: 0, max: 3 }),
  pendingKvBlocks: fc.constantFrom(0, 50, 900),
  pendingSeqs: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 50 })),
  externalSeqs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 })),
}, { requiredKeys: [] });

const blockIdArb = fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constant(0xffffffff));

/** Prompts share prefixes in practice: leading slices of a few chains, or random ids. */
const CHAINS = [[1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 9, 10, 11], [0xffffffff, 12, 0]];
const blocksArb = fc.oneof(
  fc.tuple(fc.constantFrom(...CHAINS), fc.integer({ min: 1, max: 8 })).map(([chain, k]) =>
    chain.slice(0, k)
  ),
  fc.array(blockIdArb, { maxLength: 8 }),
);

export const requestArb: fc.Arbitrary<RouteRequest> = fc.record({
  promptTokens: fc.oneof(fc.constantFrom(0, 100, 512, 2048), fc.integer({ min: 0, max: 200000 })),
  outputTokens: fc.oneof(fc.constantFrom(0, 1, 128), fc.integer({ min: 0, max: 4000 })),
  prefixBlocks: blocksArb,
});

/** Fields every built-in policy has. */
const sharedConfig = {
  disaggregation: fc.constantFrom("never", "always", "conditional"),
  localPrefillMaxTokens: fc.constantFrom(0, 512, 4096),
  decodeKvUsageLimit: fc.constantFrom(0.5, 0.95, 1),
  allowSpillover: fc.boolean(),
  ttftObservedWeight: fc.constantFrom(0, 0.5, 1),
  tpotObservedWeight: fc.constantFrom(0, 0.5, 1),
  costMsPerDollarHour: fc.constantFrom(0, 100),
  hostTierCredit: fc.constantFrom(0, 0.75, 1),
} as const;

export const configArb: fc.Arbitrary<PolicyConfigInput> = fc.oneof(
  fc.record({
    policy: fc.constant("predictive" as const),
    ...sharedConfig,
    prefillQueueLimitTokens: fc.constantFrom(0, 65536),
    slo: fc.record({
      ttftMs: fc.constantFrom(0, 500, 2000),
      tpotMs: fc.constantFrom(0, 12, 50),
      missWeight: fc.constantFrom(0, 1, 3),
      band: fc.constantFrom(0.05, 0.1, 0.5),
    }),
    tieWindowMs: fc.constantFrom(0, 1, 1000),
    tieWindowRelative: fc.constantFrom(0, 0.01),
    interferenceWeight: fc.constantFrom(0, 1, 2.5),
    candidateSample: fc.constantFrom(0, 0, 1, 2, 4),
    migration: fc.record({
      budget: fc.integer({ min: 0, max: 6 }),
      windowMs: fc.constantFrom(100, 1000),
      gapMs: fc.constantFrom(0, 50),
      overheadMs: fc.constantFrom(0, 5),
      maxMovesPerPlan: fc.integer({ min: 0, max: 4 }),
    }),
  }, { requiredKeys: [] }),
  fc.record({ policy: fc.constant("round-robin" as const), ...sharedConfig }, {
    requiredKeys: ["policy"],
  }),
);

export type Op =
  | { kind: "load"; endpoint: number; load: EndpointLoad }
  | {
    kind: "addLoad";
    endpoint: number;
    queued: number;
    seqs: number;
    kv: number;
    prefill: number;
    pending: number;
  }
  | { kind: "cache"; endpoint: number; blocks: number[]; tier: PrefixTierCode }
  | { kind: "evict"; endpoint: number; blocks: number[] }
  | { kind: "forget"; endpoint: number }
  | { kind: "route"; request: RouteRequest; draw: number; advanceMs: number }
  | { kind: "open"; endpoint: number; kv: number; remaining: number }
  | { kind: "close"; pick: number }
  | { kind: "plan"; draw: number; advanceMs: number }
  | { kind: "configure"; config: PolicyConfigInput };

const endpointIndex = fc.integer({ min: 0, max: 11 });
const draw = fc.integer({ min: 0, max: 0xffffffff });

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("load" as const),
      endpoint: endpointIndex,
      load: loadArb,
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("addLoad" as const),
      endpoint: endpointIndex,
      queued: fc.integer({ min: 0, max: 5000 }),
      seqs: fc.integer({ min: 0, max: 3 }),
      kv: fc.integer({ min: 0, max: 500 }),
      prefill: fc.integer({ min: 0, max: 2 }),
      pending: fc.constantFrom(0, 40),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("cache" as const),
      endpoint: endpointIndex,
      blocks: blocksArb,
      tier: fc.constantFrom<PrefixTierCode>(PrefixTier.DEVICE, PrefixTier.DEVICE, PrefixTier.HOST),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("evict" as const),
      endpoint: endpointIndex,
      blocks: fc.array(blockIdArb, { maxLength: 8 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("forget" as const), endpoint: endpointIndex }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("route" as const),
      request: requestArb,
      draw,
      advanceMs: fc.constantFrom(0, 10, 700),
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("open" as const),
      endpoint: endpointIndex,
      kv: fc.constantFrom(0, 10, 200, 5000),
      remaining: fc.constantFrom(0, 1, 50, 1000),
    }),
    weight: 6,
  },
  { arbitrary: fc.record({ kind: fc.constant("close" as const), pick: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("plan" as const),
      draw,
      advanceMs: fc.constantFrom(0, 50, 400),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("configure" as const), config: configArb }),
    weight: 1,
  },
);

export interface Scenario {
  readonly config: PolicyConfigInput;
  readonly endpoints: EndpointSpec[];
  readonly ops: Op[];
}

export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  config: configArb,
  endpoints: fc.array(endpointSpecArb, { minLength: 0, maxLength: 12, size: "max" }),
  ops: fc.array(opArb, { minLength: 5, maxLength: 60 }),
});

/** Builds the fleet of a scenario on a core. */
export function setUpFleet(core: ScoringCore, endpoints: readonly EndpointSpec[]): void {
  core.setEndpointCount(endpoints.length);
  endpoints.forEach((spec, i) => core.setEndpoint(i, spec));
}

/**
 * Applies one op and returns what it observably produced (a decision, a plan, or null).
 * Ops that do not apply to this fleet (e.g. an endpoint index past the end) are skipped the
 * same way for every implementation; `clock` and `open` carry state between ops.
 */
export function applyOp(
  core: ScoringCore,
  op: Op,
  clock: { now: number },
  open: number[],
): unknown {
  const n = core.endpointCount;
  switch (op.kind) {
    case "load":
      if (op.endpoint >= n) return null;
      core.setLoad(op.endpoint, op.load);
      return null;
    case "addLoad":
      if (op.endpoint >= n) return null;
      core.addLoad(op.endpoint, op.queued, op.seqs, op.kv, op.prefill, op.pending);
      return null;
    case "cache":
      if (op.endpoint >= n) return null;
      return core.addPrefixBlocks(op.endpoint, op.blocks, op.tier);
    case "evict":
      if (op.endpoint >= n) return null;
      core.removePrefixBlocks(op.endpoint, op.blocks);
      return null;
    case "forget":
      if (op.endpoint >= n) return null;
      core.removeEndpointBlocks(op.endpoint);
      return null;
    case "route":
      clock.now += op.advanceMs;
      return core.route(op.request, clock.now, op.draw);
    case "open":
      // A host opens a sequence and accounts its load on the endpoint in one step.
      if (op.endpoint >= n || open.length >= 24) return null;
      open.push(core.sequences.open(op.endpoint, op.kv, op.remaining));
      core.addLoad(op.endpoint, 0, 1, op.kv);
      return null;
    case "close": {
      if (open.length === 0) return null;
      const [slot] = open.splice(op.pick % open.length, 1);
      const e = core.sequences.endpointOf(slot);
      const s = core.state;
      // "load" ops may have overwritten the counters, so release without going below zero.
      core.setLoad(e, {
        activeSeqs: Math.max(0, s.activeSeqs[e] - 1),
        activeKvBlocks: Math.max(0, s.activeKv[e] - s.seqKv[slot]),
      });
      core.sequences.close(slot);
      return null;
    }
    case "plan":
      clock.now += op.advanceMs;
      return core.planMigrations(clock.now, op.draw);
    case "configure":
      core.configure(op.config);
      return null;
  }
}
