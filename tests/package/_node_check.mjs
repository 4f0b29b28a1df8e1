// Run by tests/package/package_test.ts with plain Node in a folder where the packed tarball was
// installed (never from this repository's sources):
//
//   node --expose-gc --min-semi-space-size=256 --max-semi-space-size=256 _node_check.mjs [ROUNDS]
//
// 1. The packaged WASM core decides exactly as the packaged TS reference: the same seeded
//    fleet and requests under several policies, with the same dispatch accounting, and every
//    decision field compared.
// 2. What a decision allocates in steady state: the V8 heap's growth per decision routed into a
//    caller-owned decision (with draws below 2^30, and with full 32-bit draws, which V8 boxes
//    when passing them), and (the control, which must see allocation) per decision returned
//    as a new object. A young generation of 256 MiB keeps all a round allocates in it, so the
//    heap's growth is what the round allocated; a collection during a round would hide it,
//    and the script counts them (PerformanceObserver 'gc').
// Prints one JSON object.
import { PerformanceObserver } from "node:perf_hooks";

// Resolved by Node from the folder's node_modules (a name in a variable, so that `deno check
// tests`, which has no such package, leaves it alone).
const PACKAGE = "@pdroute/core";
const { createCoreSync, loadCoreModule, newDecision } = await import(PACKAGE);

const ROUNDS = Number(process.argv[2] ?? 1_000_000);

/** mulberry32, as bench/_fleet.ts: every run sees the same fleet and requests. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fleet(n, random) {
  return Array.from({ length: n }, (_, e) => ({
    role: e % 3 === 2 ? "both" : e % 2 === 0 ? "prefill" : "decode",
    hostId: e % 4 < 2 ? 0 : 1,
    numaNode: e % 2,
    nvlinkDomain: Math.floor(e / 8) % 8,
    prefillTokensPerMs: 15 + random() * 10,
    decodeBaseMs: 7 + random(),
    decodeMsPerKvBlock: 0.0004,
    kvCapacityBlocks: 30000,
    slabMsPerBlock: 0.002,
  }));
}

function load(core, n, random) {
  for (let e = 0; e < n; e++) {
    core.setLoad(e, {
      queuedPrefillTokens: Math.floor(random() * 20000),
      activeSeqs: Math.floor(random() * 64),
      activeKvBlocks: Math.floor(random() * 25000),
      hostKvFreeBlocks: 2000,
    });
    if (e % 3 === 0) core.addPrefixBlocks(e, [1, 2, 3, 4]);
  }
}

const module = await loadCoreModule();
const N = 64;

function differential(policy) {
  const endpoints = fleet(N, seeded(7));
  const cores = ["wasm", "reference"].map((implementation) => {
    const core = createCoreSync({ implementation, module, policy, endpoints });
    load(core, N, seeded(11));
    return core;
  });
  const random = seeded(13);
  let mismatches = 0, first = null, remote = 0, refused = 0;
  for (let i = 0; i < 500; i++) {
    const request = {
      promptTokens: Math.floor(random() * 12000),
      outputTokens: 1 + Math.floor(random() * 400),
      prefixBlocks: random() < 0.5 ? [1, 2, 3, 4, 5] : [],
    };
    const draw = Math.floor(random() * 4294967296);
    const [a, b] = cores.map((core) => core.route(request, i * 5, draw));
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      mismatches++;
      first ??= { i, wasm: a, reference: b };
    }
    if (a.status !== "ok") {
      refused++;
      continue;
    }
    if (a.disaggregated) remote++;
    for (const core of cores) {
      core.addLoad(a.prefill, a.uncachedTokens, 0, 0, a.disaggregated ? 1 : 0);
      core.addLoad(a.decode, 0, 1, a.requestKvBlocks);
    }
  }
  return {
    policy: policy.policy,
    disaggregation: policy.disaggregation,
    mismatches,
    first,
    remote,
    refused,
  };
}

let collections = 0;
const observer = new PerformanceObserver((list) => {
  collections += list.getEntries().length;
});
observer.observe({ entryTypes: ["gc"] });
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** The heap's growth per decision over `rounds` decisions, after a warm-up. */
async function allocation({ into, fullDraws, rounds }) {
  const policy = { policy: "predictive", disaggregation: "conditional" };
  const core = createCoreSync({ module, policy, endpoints: fleet(N, seeded(7)) });
  load(core, N, seeded(11));
  const request = { promptTokens: 3000, outputTokens: 200, prefixBlocks: [1, 2, 3, 4, 5, 6] };
  const decision = into ? newDecision() : undefined;
  // Draws below 2^30 are small integers to V8; above, each is passed as a boxed number.
  const mask = fullDraws ? 0xffffffff : 0x3fffffff;
  let check = 0;
  const round = (count) => {
    for (let i = 0; i < count; i++) {
      check += core.route(request, 1000, ((i * 2654435761) & mask) >>> 0, decision).decode;
    }
  };
  round(200_000); // warm up: optimised code, settled object shapes
  globalThis.gc();
  await settle();
  const before = collections;
  const heapBefore = process.memoryUsage().heapUsed;
  round(rounds);
  const heapAfter = process.memoryUsage().heapUsed;
  await settle();
  return {
    into,
    fullDraws,
    rounds,
    collections: collections - before,
    bytes: heapAfter - heapBefore,
    bytesPerDecision: (heapAfter - heapBefore) / rounds,
    check,
  };
}

const policies = [
  { policy: "predictive", disaggregation: "conditional" },
  { policy: "predictive", disaggregation: "always" },
  { policy: "predictive", disaggregation: "never", candidateSample: 8 },
  { policy: "round-robin", disaggregation: "conditional" },
];
const result = {
  node: process.version,
  differential: policies.map(differential),
  allocation: [
    await allocation({ into: true, fullDraws: false, rounds: ROUNDS }),
    await allocation({ into: true, fullDraws: true, rounds: ROUNDS }),
    // ~280 bytes each: a tenth of the rounds keeps the control's garbage in the young space.
    await allocation({ into: false, fullDraws: false, rounds: ROUNDS / 10 }),
  ],
};
observer.disconnect();
console.log(JSON.stringify(result));
