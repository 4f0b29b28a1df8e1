/**
 * Precise KV awareness: the router subscribes to each configured engine's KV events
 * (src/kv/subscriber.ts), keeps that engine's blocks in a KvIndex, and, while the index is
 * fresh, the core's prefix table holds exactly those blocks for the engine instead of the
 * approximate mirror's guesses (LoadBook). Nothing in the core changes: in precise mode the
 * core's `prefixBlockTokens` is the engines' block size (16) and a request's prefix block ids
 * are the chained hashes of its real token ids (the tokenizer), cut to 32 bits, so the core's
 * leading-run match counts the engine's own blocks.
 *
 * Per engine, at each decision (`sync`): fresh index -> the core's entries for it are the
 * index's blocks (kept current by the index's listener as events arrive); stale or no events
 * -> the mirror's blocks, which the mirror kept learning all along. Switching clears the
 * engine's entries in the core and writes the other source's.
 *
 * The host tier: a block the engine holds only in its CPU tier goes into the core with tier
 * HOST, and the core credits it `hostTierCredit` (Dynamo's 0.75) of a device block in every
 * decision; the index's own match (`match`) credits it the same for the router's metrics.
 */
import type { ScoringCore } from "../core/scoring_core.ts";
import { blockHashes } from "../kv/block_hash.ts";
import { KvIndex } from "../kv/kv_index.ts";
import { KvMetrics } from "../kv/kv_metrics.ts";
import { KvSubscriber } from "../kv/subscriber.ts";
import type { PromptTokenizer } from "../kv/tokenizer.ts";
import type { Api, RequestBody } from "../openai/request.ts";
import type { RouterConfig } from "./config.ts";
import { RouterConfigError } from "./config.ts";
import type { Endpoint } from "./endpoint.ts";
import { KvCoreBlocks } from "./kv_core_blocks.ts";
import type { LoadBook } from "./load_book.ts";
import type client from "prom-client";

/** Most prefix blocks one request passes to the core in precise mode (128k tokens of 16). */
export const PRECISE_MAX_BLOCKS = 8192;

interface Engine {
  readonly sub: KvSubscriber;
  readonly index: KvIndex;
  /** The index's blocks as core entries; `blocks.inCore`: they are the core's (fresh index). */
  readonly blocks: KvCoreBlocks;
}

export class KvPrecise {
  readonly #engines: (Engine | null)[];
  readonly metrics: KvMetrics;
  #warnedBlockSize = false;

  constructor(
    config: RouterConfig,
    endpoints: readonly Endpoint[],
    readonly core: ScoringCore,
    readonly book: LoadBook,
    readonly tokenizer: PromptTokenizer,
    registry: client.Registry,
    readonly log: (line: string) => void = (l) => console.error(`pdroute serve: ${l}`),
  ) {
    const kv = config.kv;
    const engines: (Engine | null)[] = endpoints.map(() => null);
    this.#engines = engines;
    this.metrics = new KvMetrics(registry, endpoints.map((e) => e.url), {
      stale: (i) => engines[i] !== null && !engines[i]!.sub.fresh,
      connected: (i) => engines[i]?.sub.connected ?? false,
      index: (i) => engines[i]?.index ?? EMPTY,
    });
    for (const ev of kv.events) {
      const i = engineIndex(ev.engine, endpoints);
      if (engines[i] !== null) {
        throw new RouterConfigError(
          `Invalid router config: 'kv.events' lists engine ${endpoints[i].url} twice`,
        );
      }
      const index = new KvIndex();
      const sub = new KvSubscriber(
        endpoints[i].url,
        {
          endpoint: ev.endpoint,
          replayEndpoint: ev.replayEndpoint ?? null,
          topic: ev.topic ?? "",
          replayTimeoutMs: kv.replayTimeoutMs,
        },
        index,
        this.metrics,
        this.log,
      );
      const blocks = new KvCoreBlocks(core, i, (n) => book.prefixes.overflow += n);
      index.listener = blocks;
      engines[i] = { sub, index, blocks };
    }
    book.prefixes.precise = (e) => engines[e]?.blocks.inCore ?? false;
  }

  /** Engines with KV events configured. */
  get subscribed(): number {
    return this.#engines.filter((e) => e !== null).length;
  }

  async start(): Promise<void> {
    await Promise.all(this.#engines.map((en) => en?.sub.start()));
  }

  close(): Promise<void> {
    return Promise.all(this.#engines.map((en) => en?.sub.close())).then(() => {});
  }

  /** The prompt's token count and its core prefix block ids (null: cannot tokenize). */
  prompt(body: RequestBody, api: Api): { tokens: number; blocks: number[] } | null {
    let ids: number[];
    try {
      ids = this.tokenizer.promptIds(body as unknown as Record<string, unknown>, api);
    } catch (e) {
      this.metrics.tokenizeErrors.inc();
      this.log(`cannot tokenize a prompt (approximate prefixes used): ${(e as Error).message}`);
      return null;
    }
    const blocks = blockHashes(ids, this.core.config.prefixBlockTokens, PRECISE_MAX_BLOCKS);
    for (let i = 0; i < blocks.length; i++) blocks[i] = blocks[i] >>> 0;
    return { tokens: ids.length, blocks };
  }

  /** Before a decision: each engine's core entries from its index if fresh, else the mirror. */
  sync(): void {
    for (let e = 0; e < this.#engines.length; e++) {
      const en = this.#engines[e];
      if (!en) continue;
      const fresh = en.sub.fresh;
      if (fresh === en.blocks.inCore) continue;
      this.core.removeEndpointBlocks(e);
      en.blocks.inCore = fresh;
      if (fresh) {
        if (en.index.blockSize !== this.core.config.prefixBlockTokens && !this.#warnedBlockSize) {
          this.#warnedBlockSize = true;
          this.log(
            `KV events of ${en.sub.engine} have ${en.index.blockSize}-token blocks but the ` +
              `router cuts prompts into ${this.core.config.prefixBlockTokens}-token blocks ` +
              "(--kv-block-size): no prefix will match",
          );
        }
        en.blocks.writeAll();
      } else this.book.prefixes.intoCore(e);
    }
  }

  /** Precise prediction for engine `e` (null: no fresh index): cached and credited tokens. */
  match(e: number, ids: readonly number[]): { tokens: number; credited: number } | null {
    const en = this.#engines[e];
    return en && en.sub.fresh ? en.index.match(ids) : null;
  }

  fresh(e: number): boolean | null {
    const en = this.#engines[e];
    return en ? en.sub.fresh : null;
  }
}

const EMPTY = new KvIndex();

function engineIndex(engine: string | number, endpoints: readonly Endpoint[]): number {
  if (typeof engine === "number") {
    if (engine < endpoints.length) return engine;
    throw new RouterConfigError(
      `Invalid router config: 'kv.events' engine ${engine} is not an endpoint index ` +
        `(0..${endpoints.length - 1})`,
    );
  }
  const url = engine.replace(/\/+$/, "");
  const i = /^\d+$/.test(url) ? Number(url) : endpoints.findIndex((e) => e.url === url);
  if (i >= 0 && i < endpoints.length) return i;
  throw new RouterConfigError(
    `Invalid router config: 'kv.events' engine ${engine} is not one of the endpoints ` +
      `(${endpoints.map((e) => e.url).join(", ")})`,
  );
}
