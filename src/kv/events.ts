/**
 * vLLM's KV cache events (vllm/distributed/kv_events.py) as the router reads them, and the
 * decoding of one published payload (msgpack) into them.
 *
 * A payload is a batch `[ts, events, data_parallel_rank]`. Each event is tagged by its type
 * name, in one of two encodings (vLLM moved from the first to the second in 2026):
 * - positional arrays: `["BlockStored", block_hashes, parent_block_hash, token_ids, block_size,
 *   lora_id, medium, lora_name, ...]`, `["BlockRemoved", block_hashes, medium]`,
 *   `["AllBlocksCleared"]`;
 * - maps: `{type: "BlockStored", block_hashes: ..., ...}` (the batch may be a map too:
 *   `{ts, events, data_parallel_rank}`).
 * Unknown fields (later positions, other keys) are ignored; unknown event types are returned
 * by name so the caller can count them. Block hashes are ints (any width) or bytes in vLLM; here
 * they become strings ("i:<decimal>" or "b:<hex>"), so both kinds key one map.
 */
import { decode } from "@msgpack/msgpack";

export type Medium = "gpu" | "cpu";

export interface BlockStored {
  readonly type: "BlockStored";
  readonly blockHashes: readonly string[];
  readonly parentBlockHash: string | null;
  readonly tokenIds: readonly number[];
  readonly blockSize: number;
  readonly medium: Medium;
}

export interface BlockRemoved {
  readonly type: "BlockRemoved";
  readonly blockHashes: readonly string[];
  readonly medium: Medium;
}

export interface AllBlocksCleared {
  readonly type: "AllBlocksCleared";
}

export interface UnknownEvent {
  readonly type: "unknown";
  readonly name: string;
}

export type KvEvent = BlockStored | BlockRemoved | AllBlocksCleared | UnknownEvent;

export interface EventBatch {
  readonly ts: number;
  readonly events: readonly KvEvent[];
  readonly dataParallelRank: number | null;
}

/** A payload that is not a batch of vLLM's KV events (the message names what is wrong). */
export class KvDecodeError extends Error {
  override name = "KvDecodeError";
}

const STORED_FIELDS = [
  "block_hashes",
  "parent_block_hash",
  "token_ids",
  "block_size",
  "lora_id",
  "medium",
] as const;
const REMOVED_FIELDS = ["block_hashes", "medium"] as const;

/** Decodes one msgpack payload; throws KvDecodeError naming the problem. */
export function decodeBatch(payload: Uint8Array): EventBatch {
  let raw: unknown;
  try {
    raw = decode(payload, { useBigInt64: true });
  } catch (e) {
    throw new KvDecodeError(`payload is not msgpack: ${(e as Error).message}`);
  }
  let ts: unknown, events: unknown, rank: unknown;
  if (Array.isArray(raw)) [ts, events, rank] = raw;
  else if (isMap(raw)) ({ ts, events, data_parallel_rank: rank } = raw);
  else throw new KvDecodeError(`batch must be an array or a map, got ${describe(raw)}`);
  if (!Array.isArray(events)) {
    throw new KvDecodeError(`batch events must be an array, got ${describe(events)}`);
  }
  return {
    ts: typeof ts === "number" ? ts : typeof ts === "bigint" ? Number(ts) : NaN,
    events: events.map((e, i) => decodeEvent(e, i)),
    dataParallelRank: typeof rank === "number" ? rank : null,
  };
}

function decodeEvent(raw: unknown, i: number): KvEvent {
  let name: unknown;
  let field: (key: string) => unknown;
  if (Array.isArray(raw)) {
    name = raw[0];
    const order = name === "BlockStored" ? STORED_FIELDS : REMOVED_FIELDS;
    field = (key) => raw[1 + (order as readonly string[]).indexOf(key)];
  } else if (isMap(raw)) {
    name = raw.type;
    field = (key) => raw[key];
  } else {
    throw new KvDecodeError(`event ${i} must be an array or a map, got ${describe(raw)}`);
  }
  if (typeof name !== "string") {
    throw new KvDecodeError(`event ${i} has no type name: got ${describe(name)}`);
  }
  const where = `event ${i} (${name})`;
  switch (name) {
    case "BlockStored": {
      const parent = field("parent_block_hash");
      const blockSize = field("block_size");
      if (typeof blockSize !== "number" || !Number.isInteger(blockSize) || blockSize < 1) {
        throw new KvDecodeError(
          `${where}: block_size must be a positive integer, got ${blockSize}`,
        );
      }
      const hashes = hashList(field("block_hashes"), where);
      const tokenIds = tokenList(field("token_ids"), where);
      if (tokenIds.length !== hashes.length * blockSize) {
        throw new KvDecodeError(
          `${where}: ${hashes.length} blocks of ${blockSize} tokens need ` +
            `${hashes.length * blockSize} token_ids, got ${tokenIds.length}`,
        );
      }
      return {
        type: "BlockStored",
        blockHashes: hashes,
        parentBlockHash: parent === null || parent === undefined
          ? null
          : hashKey(parent, `${where} parent_block_hash`),
        tokenIds,
        blockSize,
        medium: medium(field("medium")),
      };
    }
    case "BlockRemoved":
      return {
        type: "BlockRemoved",
        blockHashes: hashList(field("block_hashes"), where),
        medium: medium(field("medium")),
      };
    case "AllBlocksCleared":
      return { type: "AllBlocksCleared" };
    default:
      return { type: "unknown", name };
  }
}

/** vLLM's medium names: "GPU" (or none) is the device tier; "CPU" (and any other) the host. */
function medium(v: unknown): Medium {
  return v === null || v === undefined || (typeof v === "string" && v.toUpperCase() === "GPU")
    ? "gpu"
    : "cpu";
}

/** A block hash as a map key: "i:<decimal>" for ints, "b:<hex>" for bytes. */
export function hashKey(v: unknown, where: string): string {
  if (typeof v === "number" && Number.isInteger(v)) return `i:${v}`;
  if (typeof v === "bigint") return `i:${v}`;
  if (v instanceof Uint8Array) {
    let s = "b:";
    for (const b of v) s += b.toString(16).padStart(2, "0");
    return s;
  }
  throw new KvDecodeError(`${where}: a block hash must be an integer or bytes, got ${describe(v)}`);
}

function hashList(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) throw new KvDecodeError(`${where}: block_hashes must be an array`);
  return v.map((h, j) => hashKey(h, `${where} block_hashes[${j}]`));
}

function tokenList(v: unknown, where: string): number[] {
  if (!Array.isArray(v)) throw new KvDecodeError(`${where}: token_ids must be an array`);
  for (let j = 0; j < v.length; j++) {
    const t = v[j];
    if (typeof t !== "number" || !Number.isInteger(t) || t < 0) {
      throw new KvDecodeError(`${where}: token_ids[${j}] must be a token id, got ${describe(t)}`);
    }
  }
  return v as number[];
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  return typeof v === "object" ? "a map" : `${typeof v} ${String(v).slice(0, 40)}`;
}
