/**
 * Decision cost of a 32k-token prompt, approximate vs precise KV awareness (docs/ROUTER.md,
 * "Precise KV awareness"). Approximate (before): the prompt cut into 512-token blocks of
 * characters / 4 (64 blocks), the core matching them. Precise (after): the prompt tokenized
 * (the tests' WordLevel tokenizer: a real BPE tokenizer costs more, measure yours), hashed into
 * 2,048 chained 16-token blocks, the core matching those. A 16-endpoint fleet (bench/_fleet.ts)
 * where 4 engines hold the whole prompt. `deno bench --allow-all bench/kv_precise_bench.ts`.
 */
import { blockHashes } from "../src/kv/block_hash.ts";
import { loadTokenizer } from "../src/kv/tokenizer.ts";
import { prefixBlockIds } from "../src/openai/prefix_blocks.ts";
import { newDecision } from "../src/core/request.ts";
import { createCore } from "../src/wasm/wasm_core.ts";
import { loadBenchFleet } from "./_fleet.ts";

const N = 16;
const TOKENS = 32768;
const tokenizer = await loadTokenizer(
  new URL("../tests/fixtures/kv_tokenizer", import.meta.url).pathname,
);
const text = Array.from({ length: TOKENS - 1 }, (_, i) => `w${(i * 7919) % 1000}`).join(" ");
const body = { prompt: text };

function core(blockTokens: number, requestBlocks: number, blocks: number[]) {
  const c = createCore({
    implementation: "wasm",
    endpoints: [],
    policy: { prefixBlockTokens: blockTokens, disaggregation: "conditional" },
    capacity: { endpoints: N, requestBlocks, prefixEntries: 1 << 16 },
  });
  loadBenchFleet(c, N);
  for (const e of [0, 3, 6, 9]) c.addPrefixBlocks(e, blocks);
  return c;
}

const approxBlocks = prefixBlockIds(text, 512, 512);
const ids = tokenizer.promptIds(body, "completions");
const preciseBlocks = blockHashes(ids, 16, 8192).map((h) => h >>> 0);
if (preciseBlocks.length !== 2048) {
  throw new Error(`expected 2048 blocks, got ${preciseBlocks.length}`);
}
const approx = core(512, 512, approxBlocks);
const precise = core(16, 8192, preciseBlocks);
const spare = newDecision();
const route = (c: typeof approx, blocks: number[]) =>
  c.route({ promptTokens: TOKENS, outputTokens: 200, prefixBlocks: blocks }, 0, 7, spare);

Deno.bench({
  name: "approximate: prefix ids (64 blocks) + route",
  group: "32k-token prompt",
  baseline: true,
  fn: () => {
    route(approx, prefixBlockIds(text, 512, 512));
  },
});
Deno.bench({
  name: "precise: tokenize + 2048 block hashes + route",
  group: "32k-token prompt",
  fn: () => {
    const b = blockHashes(tokenizer.promptIds(body, "completions"), 16, 8192);
    for (let i = 0; i < b.length; i++) b[i] = b[i] >>> 0;
    route(precise, b);
  },
});
Deno.bench({
  name: "approximate: route only",
  group: "parts",
  fn: () => void route(approx, approxBlocks),
});
Deno.bench({
  name: "precise: route only (2048 blocks)",
  group: "parts",
  fn: () => void route(precise, preciseBlocks),
});
Deno.bench({
  name: "precise: tokenize",
  group: "parts",
  fn: () => void tokenizer.promptIds(body, "completions"),
});
Deno.bench({
  name: "precise: 2048 block hashes",
  group: "parts",
  fn: () => void blockHashes(ids, 16, 8192),
});
