import { deepEqual, equal } from "node:assert/strict";
import { Ctr } from "../../src/core/abi.ts";
import { PrefixTier } from "../../src/core/prefix_index.ts";
import { blockHashes } from "../../src/kv/block_hash.ts";
import { encodeBatch, type OutEvent } from "../../src/kv/encode.ts";
import { decodeBatch } from "../../src/kv/events.ts";
import { KvIndex } from "../../src/kv/kv_index.ts";
import { KvCoreBlocks } from "../../src/router/kv_core_blocks.ts";
import { twoEndpointCore } from "./_core.ts";

const tokens = Array.from({ length: 32 }, (_, i) => 100 + i);
const ours = blockHashes(tokens, 16).map((h) => h >>> 0);

function feed(idx: KvIndex, events: OutEvent[]): void {
  for (const e of decodeBatch(encodeBatch(0, events, "map")).events) {
    if (e.type === "BlockStored") idx.stored(e);
    else if (e.type === "BlockRemoved") idx.removed(e);
    else if (e.type === "AllBlocksCleared") idx.cleared();
  }
}

const stored = (
  hash: bigint,
  parent: bigint | null,
  first: number,
  medium: "GPU" | "CPU",
): OutEvent => ({
  type: "BlockStored",
  blockHashes: [hash],
  parentBlockHash: parent,
  tokenIds: tokens.slice(first, first + 16),
  blockSize: 16,
  medium,
});

Deno.test("KV events' tiers reach the core: CPU-only blocks earn the host credit in decisions", () => {
  const core = twoEndpointCore();
  core.configure({ disaggregation: "never", prefixBlockTokens: 16, hostTierCredit: 0.75 });
  const idx = new KvIndex();
  const blocks = new KvCoreBlocks(core, 1, () => {});
  idx.listener = blocks;
  // Stored while the index is stale: kept here, written on writeAll.
  feed(idx, [stored(11n, null, 0, "GPU"), stored(12n, 11n, 16, "CPU")]);
  deepEqual(blocks.tiers(), new Map([[ours[0], PrefixTier.DEVICE], [ours[1], PrefixTier.HOST]]));
  equal(core.state.counters[Ctr.PREFIX_ENTRIES], 0, "nothing in the core while stale");
  const req = { promptTokens: 64, outputTokens: 8, prefixBlocks: ours };
  blocks.inCore = true;
  blocks.writeAll();
  const uncachedOn1 = (): number => {
    for (let draw = 0; draw < 64; draw++) {
      const r = core.route(req, 0, draw);
      if (r.decode === 1) return r.uncachedTokens;
    }
    return NaN;
  };
  equal(uncachedOn1(), 64 - 16 - 0.75 * 16);
  // The CPU block also lands on the GPU: full credit; it leaves the GPU: host credit again.
  feed(idx, [stored(12n, 11n, 16, "GPU")]);
  equal(uncachedOn1(), 64 - 32);
  feed(idx, [{ type: "BlockRemoved", blockHashes: [12n], medium: "GPU" }]);
  equal(uncachedOn1(), 64 - 16 - 0.75 * 16);
  // Gone from both tiers: only the first block is left; then everything is cleared.
  feed(idx, [{ type: "BlockRemoved", blockHashes: [12n], medium: "CPU" }]);
  equal(uncachedOn1(), 64 - 16);
  deepEqual(blocks.tiers(), new Map([[ours[0], PrefixTier.DEVICE]]));
  feed(idx, [{ type: "AllBlocksCleared" }]);
  equal(core.state.counters[Ctr.PREFIX_ENTRIES], 0);
  deepEqual(blocks.tiers(), new Map());
});
