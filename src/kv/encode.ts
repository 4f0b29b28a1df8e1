/**
 * Encoding KV event batches as vLLM publishes them (the emulator's side of events.ts): msgpack,
 * positional arrays tagged by type name ("array", vLLM before 2026) or maps with a `type` key
 * ("map"). Block hashes are unsigned 64-bit integers, as vLLM's int hashes are.
 */
import { encode } from "@msgpack/msgpack";

export type KvEncoding = "array" | "map";

export type OutEvent =
  | {
    readonly type: "BlockStored";
    readonly blockHashes: readonly bigint[];
    readonly parentBlockHash: bigint | null;
    readonly tokenIds: readonly number[];
    readonly blockSize: number;
    readonly medium: "GPU" | "CPU";
  }
  | {
    readonly type: "BlockRemoved";
    readonly blockHashes: readonly bigint[];
    readonly medium: "GPU" | "CPU";
  }
  | { readonly type: "AllBlocksCleared" };

export function encodeBatch(
  ts: number,
  events: readonly OutEvent[],
  encoding: KvEncoding,
  dataParallelRank = 0,
): Uint8Array {
  const out = events.map((e) => encoding === "array" ? asArray(e) : asMap(e));
  const batch = encoding === "array"
    ? [ts, out, dataParallelRank]
    : { ts, events: out, data_parallel_rank: dataParallelRank };
  return encode(batch, { useBigInt64: true });
}

function asArray(e: OutEvent): unknown[] {
  switch (e.type) {
    case "BlockStored":
      return [
        e.type,
        e.blockHashes,
        e.parentBlockHash,
        e.tokenIds,
        e.blockSize,
        null,
        e.medium,
        null,
      ];
    case "BlockRemoved":
      return [e.type, e.blockHashes, e.medium];
    case "AllBlocksCleared":
      return [e.type];
  }
}

function asMap(e: OutEvent): Record<string, unknown> {
  switch (e.type) {
    case "BlockStored":
      return {
        type: e.type,
        block_hashes: e.blockHashes,
        parent_block_hash: e.parentBlockHash,
        token_ids: e.tokenIds,
        block_size: e.blockSize,
        lora_id: null,
        medium: e.medium,
        lora_name: null,
      };
    case "BlockRemoved":
      return { type: e.type, block_hashes: e.blockHashes, medium: e.medium };
    case "AllBlocksCleared":
      return { type: e.type };
  }
}
