// Embedding the pdroute scoring core from plain Node.js: no Deno, no TypeScript, no copies.
//
// Usage: node examples/node/embed.mjs < scenario.json
// scenario.json: { "config": [29 f64 slots, see docs/ABI.md], "endpoints": [{...}],
//                  "requests": [{ "prompt", "output", "blocks": [ids], "draw" }] }
// Prints one JSON decision per request. tests/wasm/node_embed_test.ts runs this file with
// node and checks every decision against the TS reference.
//
// The pattern for any embedder: instantiate once, init with capacities, create typed-array
// views over the regions once, then write state in place and call route() per request.
import { readFileSync } from "node:fs";
import loader from "@assemblyscript/loader";

// Region ids and slots used here (docs/ABI.md lists them all).
const REGION = {
  counters: 0,
  config: 2,
  request: 3,
  requestBlocks: 4,
  result: 5,
  role: 7,
  healthy: 8,
  host: 9,
  numa: 10,
  domain: 11,
  prefillMsPerToken: 12,
  decodeBaseMs: 13,
  decodeMsPerBlock: 14,
  kvCapacity: 15,
  queuedPrefill: 18,
  activeSeqs: 19,
  activeKv: 20,
};
const ROLE = { prefill: 1, decode: 2, both: 3 };
const RESULT = [
  "status",
  "prefill",
  "decode",
  "disaggregated",
  "ttftMs",
  "tpotMs",
  "uncachedTokens",
  "transferMs",
  "requestKvBlocks",
  "costMs",
  "ttftModelMs",
  "tpotModelMs",
];
const ABI_VERSION = 5;

const wasm = readFileSync(new URL("../../artifacts/wasm/pdroute_core.wasm", import.meta.url));
const { exports } = await loader.instantiate(wasm, {});
if (exports.abiVersion() !== ABI_VERSION) throw new Error("pdroute core: ABI version mismatch");
const status = exports.init(64, 1024, 4096, 64, 8, 2, 8, 4, 64);
if (status !== 0) throw new Error(`pdroute core: init failed with status ${status}`);

const buffer = exports.memory.buffer;
const view = (Type, id) => new Type(buffer, exports.regionOffset(id), exports.regionLength(id));
const f64 = (id) => view(Float64Array, id);
const i32 = (id) => view(Int32Array, id);

const scenario = JSON.parse(readFileSync(0, "utf8"));
f64(REGION.config).set(scenario.config);
i32(REGION.counters)[0] = scenario.endpoints.length;
const role = i32(REGION.role), healthy = i32(REGION.healthy);
const host = i32(REGION.host), numa = i32(REGION.numa), domain = i32(REGION.domain);
const msPerToken = f64(REGION.prefillMsPerToken), decodeBase = f64(REGION.decodeBaseMs);
const perBlock = f64(REGION.decodeMsPerBlock), kvCapacity = f64(REGION.kvCapacity);
const queued = f64(REGION.queuedPrefill), seqs = f64(REGION.activeSeqs), kv = f64(REGION.activeKv);
scenario.endpoints.forEach((e, i) => {
  role[i] = ROLE[e.role];
  healthy[i] = 1;
  host[i] = e.host ?? 0;
  numa[i] = e.numa ?? 0;
  domain[i] = e.domain ?? -1;
  msPerToken[i] = 1 / e.prefillTokensPerMs;
  decodeBase[i] = e.decodeBaseMs;
  perBlock[i] = e.decodeMsPerKvBlock;
  kvCapacity[i] = e.kvCapacityBlocks;
  queued[i] = e.queuedPrefillTokens ?? 0;
  seqs[i] = e.activeSeqs ?? 0;
  kv[i] = e.activeKvBlocks ?? 0;
});
// The core keeps per-role lists of endpoints (the pools); rebuild them after writing roles.
if (exports.rebuildPools() !== 0) throw new Error("pdroute core: cannot rebuild the pools");
if (exports.validateState() !== 0) throw new Error("pdroute core: state rejected");

const request = f64(REGION.request), blocks = view(Uint32Array, REGION.requestBlocks);
const result = f64(REGION.result);
for (const r of scenario.requests) {
  request[0] = r.prompt;
  request[1] = r.output;
  request[2] = r.blocks.length;
  blocks.set(r.blocks);
  exports.route(r.now ?? 0, r.draw >>> 0);
  const decision = Object.fromEntries(RESULT.map((name, i) => [name, result[i]]));
  console.log(JSON.stringify(decision));
  // In-router accounting at dispatch, as a real router would do it.
  queued[decision.prefill] += decision.uncachedTokens;
  seqs[decision.decode] += 1;
  kv[decision.decode] += decision.requestKvBlocks;
}
