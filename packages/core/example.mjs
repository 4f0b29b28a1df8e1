// Routing with @pdroute/core: four GPUs (two prefill, two decode on two hosts), a few requests,
// one JSON line per decision. After `npm install <the tarball>`: node example.mjs
import { createCore, newDecision } from "@pdroute/core";

const gpu = {
  prefillTokensPerMs: 20,
  decodeBaseMs: 8,
  decodeMsPerKvBlock: 0.0005,
  kvCapacityBlocks: 20000,
};
const core = await createCore({
  policy: { policy: "predictive", disaggregation: "conditional" },
  endpoints: [
    { role: "prefill", hostId: 0, ...gpu },
    { role: "prefill", hostId: 1, ...gpu },
    { role: "decode", hostId: 0, ...gpu },
    { role: "decode", hostId: 1, ...gpu },
  ],
});
core.setLoad(0, { queuedPrefillTokens: 6000 }); // prefill 0 has a queue
core.setLoad(2, { activeSeqs: 48, activeKvBlocks: 9000 }); // decode 2 is the busier decoder
core.setLoad(3, { activeSeqs: 16, activeKvBlocks: 3000 });
core.addPrefixBlocks(1, [7, 8, 9]); // prefill 1 caches a long system prompt (3 x 512 tokens)

const requests = [
  { promptTokens: 200, outputTokens: 64 }, // short: prefilled where it decodes (the idler decoder)
  { promptTokens: 4000, outputTokens: 256 }, // long: prefilled on the idle prefill GPU, KV sent on
  { promptTokens: 2048, outputTokens: 128, prefixBlocks: [7, 8, 9, 10] }, // follows its cache
  { promptTokens: 8000, outputTokens: 32 },
];
let seed = 42; // the core takes its randomness (and its clock) from the caller
const draw = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
const decision = newDecision(); // reused: routing allocates nothing
for (const [i, request] of requests.entries()) {
  const d = core.route(request, 1000 + 10 * i, draw(), decision);
  const { status, prefill, decode, disaggregated, ttftMs, tpotMs, uncachedTokens } = d;
  console.log(
    JSON.stringify({
      request: i,
      status,
      prefill,
      decode,
      disaggregated,
      ttftMs,
      tpotMs,
      uncachedTokens,
    }),
  );
  // Account what was dispatched, as a router does until the engines report back.
  core.addLoad(prefill, uncachedTokens, 0, 0, disaggregated ? 1 : 0);
  core.addLoad(decode, 0, 1, d.requestKvBlocks);
}
