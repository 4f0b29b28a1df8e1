/**
 * The emulator's KV events (`emulate --kv-events tcp://HOST:PORT`): the engine model's prefix
 * cache runs at the engine's block size (default 16 tokens) over blocks named by the chained
 * hash of the prompt's real token ids (the tokenizer the router uses), and every change of
 * that cache is published as vLLM publishes it (src/kv/publisher.ts): blocks newly cached ->
 * BlockStored (token ids, parent block), blocks the bounded LRU evicted -> BlockRemoved, a
 * reset (POST /reset_prefix_cache) -> AllBlocksCleared.
 *
 * The engine's block hashes on the wire are ours XOR a per-process 64-bit salt, so they differ
 * from run to run as vLLM's do: a subscriber must map them through the token ids.
 */
import { blockHashes, ROOT_HASH } from "../kv/block_hash.ts";
import type { OutEvent } from "../kv/encode.ts";
import { KvPublisher } from "../kv/publisher.ts";
import { loadTokenizer, type PromptTokenizer } from "../kv/tokenizer.ts";
import type { Api, RequestBody } from "../openai/request.ts";
import type { KvEventsOptions } from "./options.ts";

interface BlockInfo {
  readonly parent: number;
  readonly tokens: readonly number[];
}

/** Blocks hashed for prompts but not (yet) cached are remembered up to this many. */
const PENDING_LIMIT = 200_000;

export class EmulatorKv {
  readonly #salt: bigint;
  /** Blocks the engine's cache holds: our hash -> parent and token ids. */
  readonly #resident = new Map<number, BlockInfo>();
  /** Blocks of prompts seen, waiting for the engine to cache them. */
  #pending = new Map<number, BlockInfo>();

  private constructor(
    readonly options: KvEventsOptions,
    readonly tokenizer: PromptTokenizer,
    readonly publisher: KvPublisher,
  ) {
    const r = crypto.getRandomValues(new Uint32Array(2));
    this.#salt = (BigInt(r[0]) << 32n) | BigInt(r[1]);
  }

  static async start(options: KvEventsOptions, tokenizerDir: string): Promise<EmulatorKv> {
    const tokenizer = await loadTokenizer(tokenizerDir);
    const { host, port } = tcpEndpoint(options.endpoint ?? "", "kvEvents.endpoint");
    const replayPort = options.replayEndpoint === null
      ? null
      : tcpEndpoint(options.replayEndpoint, "kvEvents.replayEndpoint").port;
    const publisher = await KvPublisher.bind({
      host,
      port,
      replayPort,
      encoding: options.encoding,
      topic: options.topic,
    });
    return new EmulatorKv(options, tokenizer, publisher);
  }

  /** The prompt's token ids, as the engine computes them. */
  tokenIds(body: RequestBody, api: Api): number[] {
    return this.tokenizer.promptIds(body as unknown as Record<string, unknown>, api);
  }

  /** The prompt's full blocks (the engine model's prefix block ids), remembered for events. */
  blocks(ids: readonly number[]): number[] {
    const size = this.options.blockSize;
    const out = blockHashes(ids, size);
    if (this.#pending.size > PENDING_LIMIT) this.#pending = new Map();
    for (let i = 0; i < out.length; i++) {
      if (this.#resident.has(out[i]) || this.#pending.has(out[i])) continue;
      this.#pending.set(out[i], {
        parent: i === 0 ? ROOT_HASH : out[i - 1],
        tokens: ids.slice(i * size, (i + 1) * size),
      });
    }
    return out;
  }

  /** The engine's prefix cache changed: publishes one batch (removals first). */
  changed(added: readonly number[], evicted: readonly number[]): void {
    const events: OutEvent[] = [];
    if (evicted.length > 0) {
      for (const h of evicted) this.#resident.delete(h);
      events.push({
        type: "BlockRemoved",
        blockHashes: evicted.map((h) => this.#wire(h)),
        medium: "GPU",
      });
    }
    let run: { hashes: bigint[]; tokens: number[]; parent: number; last: number } | null = null;
    const flush = () => {
      if (!run) return;
      events.push({
        type: "BlockStored",
        blockHashes: run.hashes,
        parentBlockHash: run.parent === ROOT_HASH ? null : this.#wire(run.parent),
        tokenIds: run.tokens,
        blockSize: this.options.blockSize,
        medium: "GPU",
      });
      run = null;
    };
    for (const h of added) {
      const info = this.#pending.get(h) ?? this.#resident.get(h);
      if (!info) continue; // hashed before the pending map was trimmed: cannot be described
      this.#pending.delete(h);
      this.#resident.set(h, info);
      if (!run || info.parent !== run.last) {
        flush();
        run = { hashes: [], tokens: [], parent: info.parent, last: info.parent };
      }
      run.hashes.push(this.#wire(h));
      for (const t of info.tokens) run.tokens.push(t);
      run.last = h;
    }
    flush();
    this.publisher.publish(events);
  }

  /** The engine's prefix cache was emptied. */
  cleared(): void {
    this.#resident.clear();
    this.publisher.publish([{ type: "AllBlocksCleared" }]);
  }

  /** Our hashes of the blocks the engine holds (tests compare the router's view with this). */
  holds(hash: number): boolean {
    return this.#resident.has(hash);
  }

  close(): Promise<void> {
    return this.publisher.close();
  }

  #wire(h: number): bigint {
    return BigInt(h) ^ this.#salt;
  }
}

/** `tcp://HOST:PORT` (PORT 0 or `*`: any free port). */
export function tcpEndpoint(value: string, field: string): { host: string; port: number } {
  const m = /^tcp:\/\/([^:/]+):(\d+|\*)$/.exec(value);
  if (!m) throw new Error(`${field} must be tcp://HOST:PORT: current value is '${value}'`);
  const port = m[2] === "*" ? 0 : Number(m[2]);
  if (port > 65535) throw new Error(`${field}: port must be 0..65535: current value is '${value}'`);
  return { host: m[1] === "*" ? "0.0.0.0" : m[1], port };
}
