import { deepEqual, equal, throws } from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { decodeBatch, KvDecodeError } from "../../src/kv/events.ts";
import { encodeBatch, type OutEvent } from "../../src/kv/encode.ts";
import { blockHashes } from "../../src/kv/block_hash.ts";
import { KvIndex } from "../../src/kv/kv_index.ts";

const tokens = Array.from({ length: 32 }, (_, i) => 100 + i);
const EVENTS: OutEvent[] = [
  {
    type: "BlockStored",
    blockHashes: [2n ** 63n + 7n, 5n],
    parentBlockHash: null,
    tokenIds: tokens,
    blockSize: 16,
    medium: "GPU",
  },
  { type: "BlockRemoved", blockHashes: [5n], medium: "GPU" },
  { type: "AllBlocksCleared" },
];

for (const encoding of ["array", "map"] as const) {
  Deno.test(`decodes vLLM's ${encoding} encoding`, () => {
    const b = decodeBatch(encodeBatch(1.5, EVENTS, encoding));
    equal(b.ts, 1.5);
    equal(b.dataParallelRank, 0);
    deepEqual(b.events, [
      {
        type: "BlockStored",
        blockHashes: [`i:${2n ** 63n + 7n}`, "i:5"],
        parentBlockHash: null,
        tokenIds: tokens,
        blockSize: 16,
        medium: "gpu",
      },
      { type: "BlockRemoved", blockHashes: ["i:5"], medium: "gpu" },
      { type: "AllBlocksCleared" },
    ]);
  });
}

Deno.test("unknown fields are ignored, unknown types named, bytes hashes and CPU medium read", () => {
  const payload = encode([
    2,
    [
      [
        "BlockStored",
        [new Uint8Array([1, 255])],
        null,
        tokens.slice(0, 16),
        16,
        null,
        "CPU",
        null,
        "x",
        9,
      ],
      { type: "BlockRemoved", block_hashes: [3], medium: null, extra: [1, 2] },
      ["SomethingNew", 1, 2],
      { type: "AllBlocksCleared", later: true },
    ],
    3,
    "extra",
  ]);
  const b = decodeBatch(payload);
  deepEqual(b.events.map((e) => e.type), [
    "BlockStored",
    "BlockRemoved",
    "unknown",
    "AllBlocksCleared",
  ]);
  deepEqual(b.events[0], {
    type: "BlockStored",
    blockHashes: ["b:01ff"],
    parentBlockHash: null,
    tokenIds: tokens.slice(0, 16),
    blockSize: 16,
    medium: "cpu",
  });
  deepEqual(b.events[2], { type: "unknown", name: "SomethingNew" });
  equal(b.dataParallelRank, 3);
});

Deno.test("garbage payloads are KvDecodeErrors naming the problem", () => {
  const bad: [Uint8Array, RegExp][] = [
    [new Uint8Array([0xc1]), /not msgpack/],
    [encode("hello"), /batch must be an array or a map, got string hello/],
    [encode([1, 5]), /events must be an array/],
    [encode([1, [7]]), /event 0 must be an array or a map/],
    [encode([1, [[3]]]), /event 0 has no type name/],
    [encode([1, [["BlockStored", [1], null, [1, 2], 16]]]), /need 16 token_ids, got 2/],
    [encode([1, [["BlockStored", ["x"], null, [], 16]]]), /block_hashes\[0\].*integer or bytes/],
    [encode([1, [["BlockStored", [1], null, [], 0]]]), /block_size must be a positive integer/],
  ];
  for (const [payload, message] of bad) {
    throws(
      () => decodeBatch(payload),
      (e) => e instanceof KvDecodeError && message.test(e.message),
    );
  }
});

Deno.test("the index maps engine hashes to chained token hashes, by tier", () => {
  const idx = new KvIndex();
  const ours = blockHashes(tokens, 16);
  const batch = (events: OutEvent[]) => decodeBatch(encodeBatch(0, events, "map")).events;
  for (
    const e of batch([
      {
        type: "BlockStored",
        blockHashes: [11n],
        parentBlockHash: null,
        tokenIds: tokens.slice(0, 16),
        blockSize: 16,
        medium: "GPU",
      },
      {
        type: "BlockStored",
        blockHashes: [12n],
        parentBlockHash: 11n,
        tokenIds: tokens.slice(16),
        blockSize: 16,
        medium: "CPU",
      },
      {
        type: "BlockStored",
        blockHashes: [99n],
        parentBlockHash: 98n,
        tokenIds: tokens.slice(16),
        blockSize: 16,
        medium: "GPU",
      },
    ])
  ) if (e.type === "BlockStored") idx.stored(e);
  deepEqual(idx.match(ours), { tokens: 32, credited: 16 + 0.75 * 16 });
  deepEqual(idx.sizes(), { gpu: 1, cpu: 1 });
  equal(idx.orphans, 1);
  // A prompt that differs in its first block shares nothing, even with equal second blocks.
  deepEqual(idx.match(blockHashes([1, ...tokens.slice(1)], 16)), { tokens: 0, credited: 0 });
  for (const e of batch([{ type: "BlockRemoved", blockHashes: [11n], medium: "GPU" }])) {
    if (e.type === "BlockRemoved") idx.removed(e);
  }
  deepEqual(idx.match(ours), { tokens: 0, credited: 0 });
  deepEqual(idx.sizes(), { gpu: 0, cpu: 1 });
  idx.cleared();
  deepEqual(idx.sizes(), { gpu: 0, cpu: 0 });
});
