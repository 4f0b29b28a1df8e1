/**
 * Policy invariants as fast-check properties, checked on both implementations:
 * picks are valid (or a clear no-capacity result that is really true), endpoint order does
 * not matter, migrations respect budget, gap and identity, and bad input is rejected with a
 * message naming the field and the value while leaving the state untouched.
 */
import fc from "fast-check";
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { stepModelMs, stepTimeMs } from "../../src/core/reference/model.ts";
import { Role } from "../../src/core/abi.ts";
import type { EndpointLoad, EndpointSpec } from "../../src/core/endpoints.ts";
import { PolicyInputError } from "../../src/core/errors.ts";
import { createReferenceCore } from "../../src/core/reference/mod.ts";
import type { ScoringCore } from "../../src/core/scoring_core.ts";
import { createWasmCore } from "../../src/wasm/wasm_core.ts";
import { configArb, endpointSpecArb, loadArb, requestArb, SMALL_CAPACITY } from "./_fleet.ts";
import type { CoreFactory } from "./_policy_suite.ts";

const IMPLEMENTATIONS: [string, CoreFactory][] = [["reference", createReferenceCore], [
  "wasm",
  createWasmCore,
]];

interface Member {
  spec: EndpointSpec;
  load: EndpointLoad;
  cached: number[];
}

const memberArb: fc.Arbitrary<Member> = fc.record({
  spec: endpointSpecArb,
  load: loadArb,
  cached: fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 6 }),
});

function build(make: CoreFactory, config: object, members: Member[], order: number[]): ScoringCore {
  const core = make(config, SMALL_CAPACITY);
  core.setEndpointCount(members.length);
  members.forEach((m, i) => {
    const at = order[i];
    core.setEndpoint(at, m.spec);
    core.setLoad(at, m.load);
    core.addPrefixBlocks(at, m.cached);
  });
  return core;
}

const identity = (n: number) => Array.from({ length: n }, (_, i) => i);

for (const [kind, make] of IMPLEMENTATIONS) {
  Deno.test(`[${kind}] a pick is a healthy endpoint of the right pool, or a true no-capacity`, () => {
    fc.assert(
      fc.property(
        configArb,
        fc.array(memberArb, { maxLength: 12 }),
        requestArb,
        fc.nat(),
        (config, members, req, draw) => {
          const core = build(make, config, members, identity(members.length));
          const s = core.state;
          const d = core.route(req, 0, draw >>> 0);
          const limit = core.config.decodeKvUsageLimit;
          // docs/POLICY.md "Eligibility": KV room without pending KV, and with SLOs set the
          // model step (resident KV, no observed factor) within the top of the TPOT SLO band.
          const fits = (e: number) => {
            const kv = s.activeKv[e] - s.pendingKv[e] + d.requestKvBlocks;
            if (!(kv <= s.kvCapacity[e] * limit + s.hostKvFree[e])) return false;
            const c = core.config;
            if (c.policy !== "predictive" || !(c.slo.ttftMs > 0 && c.slo.tpotMs > 0)) return true;
            const seqs = s.activeSeqs[e] - s.pendingSeqs[e] + 1;
            const top = c.slo.tpotMs * (1 + c.slo.band);
            const model = stepModelMs(s, e, kv, seqs);
            // Past the band (model and observed step), a request waits only while enough of
            // the sequences the router placed can finish in time.
            const excess = stepTimeMs(s, e, kv, seqs, 0) - top;
            const placed = Math.max(0, seqs - s.externalSeqs[e]);
            const drain = excess * req.outputTokens * model * seqs /
              (Math.max(0, model - s.decodeBaseMs[e]) * placed);
            return !(model - top > 0) || !(excess > 0) || !(drain <= c.slo.ttftMs);
          };
          if (d.status !== "ok") {
            deepEqual([d.prefill, d.decode], [-1, -1]);
            if (core.config.policy === "predictive" && d.status === "no-decode-capacity") {
              for (let e = 0; e < members.length; e++) {
                ok(
                  !(s.healthy[e] && s.role[e] & Role.DECODE && fits(e)),
                  `endpoint ${e} could decode`,
                );
              }
            }
            return;
          }
          ok(s.healthy[d.decode] === 1 && (s.role[d.decode] & Role.DECODE) !== 0, "decode pool");
          if (core.config.policy === "predictive") ok(fits(d.decode), "decode has KV room");
          if (d.disaggregated) {
            ok(
              s.healthy[d.prefill] === 1 && (s.role[d.prefill] & Role.PREFILL) !== 0,
              "prefill pool",
            );
          } else {
            equal(d.prefill, d.decode);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  Deno.test(`[${kind}] permuting endpoint order does not change the chosen cost`, () => {
    fc.assert(
      fc.property(
        configArb,
        fc.array(memberArb, { minLength: 1, maxLength: 12 }).chain((members) =>
          fc.tuple(
            fc.constant(members),
            fc.shuffledSubarray(identity(members.length), { minLength: members.length }),
          )
        ),
        requestArb,
        fc.nat(),
        fc.nat(),
        (config, [members, order], req, drawA, drawB) => {
          // With no tie window only exact ties remain, so both must land on the same cost.
          // Candidate sampling gives that up by design (the sample follows endpoint order).
          const exact = {
            ...config,
            policy: "predictive" as const,
            tieWindowMs: 0,
            tieWindowRelative: 0,
            candidateSample: 0,
          };
          const coreA = build(make, exact, members, identity(members.length));
          const a = coreA.route(req, 0, drawA >>> 0);
          const b = build(make, exact, members, order).route(req, 0, drawB >>> 0);
          equal(b.status, a.status);
          equal(b.costMs, a.costMs);
          // (Whether it disaggregates may differ: a local path on one endpoint and a remote one
          // on another can cost exactly the same, e.g. for a request late on every path.)
          if (a.status === "ok" && !a.disaggregated && coreA.config.disaggregation !== "always") {
            // Same endpoint up to ties: b's decode endpoint, mapped back, has a's best cost
            // (a local decision outside `always` mode leaves every decode candidate's cost in
            // the cost scratch; the prefill stage, when it runs, reuses it).
            const member = order.indexOf(b.decode);
            equal(coreA.state.cost[member], a.costMs);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  Deno.test(`[${kind}] migrations never exceed the budget in any window, never self-move, never below the gap`, () => {
    let planned = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            spec: endpointSpecArb,
            seqs: fc.array(
              fc.record({
                kv: fc.integer({ min: 0, max: 3000 }),
                remaining: fc.integer({ min: 0, max: 2000 }),
              }),
              { maxLength: 6 },
            ),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.record({
          budget: fc.integer({ min: 0, max: 5 }),
          windowMs: fc.constantFrom(100, 1000),
          gapMs: fc.constantFrom(0, 20, 200),
          maxMovesPerPlan: fc.integer({ min: 0, max: 4 }),
        }),
        fc.array(fc.tuple(fc.constantFrom(0, 10, 60, 300, 1200), fc.nat()), {
          minLength: 1,
          maxLength: 30,
        }),
        (fleet, migration, plans) => {
          const core = make({ migration }, { ...SMALL_CAPACITY, sequences: 64 });
          core.setEndpointCount(fleet.length);
          fleet.forEach((m, e) => {
            core.setEndpoint(e, m.spec);
            for (const q of m.seqs) {
              core.sequences.open(e, q.kv, q.remaining);
              core.addLoad(e, 0, 1, q.kv);
            }
          });
          const times: number[] = [];
          let now = 0;
          for (const [advance, draw] of plans) {
            now += advance;
            const where = Array.from(core.state.seqEndpoint);
            const moves = core.planMigrations(now, draw >>> 0);
            ok(moves.length <= migration.maxMovesPerPlan);
            for (const m of moves) {
              ok(m.from !== m.to, "moved to where it already was");
              equal(core.state.role[m.to], Role.DECODE, "migration targets decode only");
              ok(
                !moves.some((o) => o !== m && o.sequence === m.sequence),
                "moved twice in one plan",
              );
              equal(where[m.sequence], m.from, "the sequence was on 'from'");
              where[m.sequence] = m.to;
              ok(m.benefitMs - m.costMs > migration.gapMs, "moved below the gap");
              equal(core.sequences.endpointOf(m.sequence), m.to);
              times.push(now);
              planned++;
            }
          }
          for (const t of times) {
            const inWindow = times.filter((u) => u > t - migration.windowMs && u <= t).length;
            ok(inWindow <= migration.budget, `${inWindow} moves in the window ending ${t}`);
          }
        },
      ),
      { numRuns: 300 },
    );
    ok(planned >= 30, `only ${planned} migrations were planned: the property tested too little`);
  });

  Deno.test(`[${kind}] round robin is fair over a full cycle`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
        fc.nat({ max: 30 }),
        (health, warmup) => {
          const core = make({ policy: "round-robin", disaggregation: "never" }, SMALL_CAPACITY);
          core.setEndpointCount(health.length);
          health.forEach((healthy, e) => {
            core.setEndpoint(e, {
              role: "both",
              prefillTokensPerMs: 1,
              decodeBaseMs: 1,
              decodeMsPerKvBlock: 0,
              kvCapacityBlocks: 10,
            });
            core.setLoad(e, { healthy });
          });
          const req = { promptTokens: 10, outputTokens: 10 };
          for (let i = 0; i < warmup; i++) core.route(req, 0, 0);
          const eligible = health.flatMap((h, e) => (h ? [e] : []));
          const picks = Array.from({ length: eligible.length }, () => core.route(req, 0, 0).decode);
          deepEqual(picks.toSorted((x, y) => x - y), eligible);
        },
      ),
    );
  });

  Deno.test(`[${kind}] bad input is rejected by name and value, leaving state untouched`, () => {
    const core = make({}, SMALL_CAPACITY);
    core.setEndpointCount(2);
    core.setEndpoint(0, {
      role: "both",
      prefillTokensPerMs: 10,
      decodeBaseMs: 5,
      decodeMsPerKvBlock: 0,
      kvCapacityBlocks: 100,
    });
    const before = Array.from(core.state.queuedPrefill);
    const cases: [() => unknown, RegExp][] = [
      [
        () => core.setLoad(0, { queuedPrefillTokens: 5, activeKvBlocks: NaN }),
        /'activeKvBlocks' must be a finite number >= 0: current value is NaN/,
      ],
      [() => core.setLoad(0, { activeSeqs: -1 }), /'activeSeqs' .* current value is -1/],
      [
        () => core.setLoad(0, { tpotObservedRatio: NaN }),
        /'tpotObservedRatio' must be a finite number >= 0: current value is NaN/,
      ],
      [
        () => core.setLoad(0, { ttftObservedRatio: 5000 }),
        /'ttftObservedRatio' must be at most 1000 \(observed \/ predicted\): current value is 5000/,
      ],
      [() => core.setLoad(1, { activeSeqs: 1 }), /endpoint 1: it has no role yet/],
      [() => core.setLoad(2, {}), /'endpoint' must be an integer from 0 to 1: current value is 2/],
      [
        () =>
          core.setEndpoint(0, {
            role: "both",
            prefillTokensPerMs: 0,
            decodeBaseMs: 1,
            decodeMsPerKvBlock: 0,
            kvCapacityBlocks: 1,
          }),
        /'prefillTokensPerMs'/,
      ],
      [
        () =>
          core.setEndpoint(0, {
            role: "gpu" as "both",
            prefillTokensPerMs: 1,
            decodeBaseMs: 1,
            decodeMsPerKvBlock: 0,
            kvCapacityBlocks: 1,
          }),
        /'role' must be one of prefill, decode, both: current value is "gpu"/,
      ],
      [
        () =>
          core.setEndpoint(0, {
            role: "both",
            hostId: 99,
            prefillTokensPerMs: 1,
            decodeBaseMs: 1,
            decodeMsPerKvBlock: 0,
            kvCapacityBlocks: 1,
          }),
        /'hostId' must be an integer from 0 to 2: current value is 99/,
      ],
      [
        () => core.route({ promptTokens: Infinity, outputTokens: 1 }, 0, 0),
        /'promptTokens' .* current value is Infinity/,
      ],
      [
        () => core.route({ promptTokens: 1, outputTokens: 1, prefixBlocks: [1.5] }, 0, 0),
        /'prefixBlocks\[0\]' .* current value is 1.5/,
      ],
      [
        () =>
          core.route(
            { promptTokens: 1, outputTokens: 1, prefixBlocks: new Array(9).fill(1) },
            0,
            0,
          ),
        /at most 8 ids/,
      ],
      [
        () => core.route({ promptTokens: 1, outputTokens: 1 }, NaN, 0),
        /'nowMs' must be a finite time in ms: current value is NaN/,
      ],
      [
        () => core.route({ promptTokens: 1, outputTokens: 1 }, 0, -1),
        /'draw' must be an integer from 0 to 4294967295/,
      ],
      [() => core.addLoad(0, -10, 0, 0), /'queuedPrefillTokens' .* current value is -10/],
      [
        () => core.addPrefixBlocks(0, [-3]),
        /prefix block ids must be integers .* current value is -3/,
      ],
      [() => core.sequences.close(0), /'slot' must be an integer from 0 to -1/],
      [
        () => core.configure({ tieWindowMs: -1 }),
        /'tieWindowMs' too small: expected number to be >=0: current value is -1/,
      ],
      [() => core.configure({ migration: { budget: 1e9 } }), /'migration.budget'/],
      [
        () => core.configure({ candidateSample: 2.5 }),
        /'candidateSample' .*int.*: current value is 2.5/,
      ],
      [
        () => core.configure({ policy: "fastest" as "predictive" }),
        /'policy' .* current value is "fastest"/,
      ],
      [() => core.configure({ bogus: 1 } as object), /unknown field 'bogus'/],
    ];
    for (const [call, message] of cases) {
      throws(call, (e: unknown) => e instanceof PolicyInputError && message.test(e.message));
    }
    deepEqual(Array.from(core.state.queuedPrefill), before, "a rejected update wrote nothing");
    core.planMigrations(100, 0);
    throws(() => core.planMigrations(99, 0), /'nowMs' must not go backwards/);
  });
}
