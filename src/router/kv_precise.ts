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
 * The host tier: a block held only in the CPU tier counts as cached in the core (credit 1.0),
 * because the core's match is whole blocks; the index's own match (`match`) credits it 0.75 as
 * Dynamo does, and the router reports that in its metrics.
 */
import type { ScoringCore } from "../core/scoring_core.ts";
import { blockHashes } from "../kv/block_hash.ts";
import { KvIndex, type KvIndexListener } from "../kv/kv_index.ts";
import { KvMetrics } from "../kv/kv_metrics.ts";
import { KvSubscriber } from "../kv/subscriber.ts";
import type { PromptTokenizer } from "../kv/tokenizer.ts";
import type { Api, RequestBody } from "../openai/request.ts";
import type { RouterConfig } from "./config.ts";
import { RouterConfigError } from "./config.ts";
import type { Endpoint } from "./endpoint.ts";
import type { LoadBook } from "./load_book.ts";
import type client from "prom-client";

/** Most prefix blocks one request passes to the core in precise mode (128k tokens of 16). */
export const PRECISE_MAX_BLOCKS = 8192;

interface Engine {
  readonly sub: KvSubscriber;
  readonly index: KvIndex;
  /** The core's entries for this engine come from the index (it was fresh at the last sync). */
  inCore: boolean;
  /** 32-bit core ids of the index's blocks, with how many of our hashes map to each. */
  readonly refs: Map<number, number>;
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
      const en: Engine = { sub, index, inCore: false, refs: new Map() };
      index.listener = this.#listener(i, en);
      engines[i] = en;
    }
    book.prefixes.precise = (e) => engines[e]?.inCore ?? false;
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
      if (fresh === en.inCore) continue;
      this.core.removeEndpointBlocks(e);
      en.inCore = fresh;
      if (fresh) {
        if (en.index.blockSize !== this.core.config.prefixBlockTokens && !this.#warnedBlockSize) {
          this.#warnedBlockSize = true;
          this.log(
            `KV events of ${en.sub.engine} have ${en.index.blockSize}-token blocks but the ` +
              `router cuts prompts into ${this.core.config.prefixBlockTokens}-token blocks ` +
              "(--kv-block-size): no prefix will match",
          );
        }
        this.book.prefixes.overflow += this.core.addPrefixBlocks(e, [...en.refs.keys()]);
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

  #listener(e: number, en: Engine): KvIndexListener {
    const core = this.core;
    return {
      held: (ours) => {
        const id = ours >>> 0;
        const n = en.refs.get(id) ?? 0;
        en.refs.set(id, n + 1);
        if (n === 0 && en.inCore) this.book.prefixes.overflow += core.addPrefixBlocks(e, [id]);
      },
      gone: (ours) => {
        const id = ours >>> 0;
        const n = en.refs.get(id) ?? 0;
        if (n <= 1) {
          en.refs.delete(id);
          if (en.inCore) core.removePrefixBlocks(e, [id]);
        } else en.refs.set(id, n - 1);
      },
      cleared: () => {
        en.refs.clear();
        if (en.inCore) core.removeEndpointBlocks(e);
      },
    };
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
