/**
 * What the simulated router knows of the engines' prefix caches (`router.prefixKnowledge`).
 *
 * The workloads name prompts' prefixes in 512-token blocks (Mooncake's hash ids; the synthetic
 * generators use the same size). An engine caches at its own block size
 * (`engine.prefixBlockTokens`, vLLM's is 16): each workload block splits into 512 / size engine
 * blocks, of which only the full ones are cached (at 512, every workload block is, as before).
 *
 * - precise: the router is told the engines' real cache contents, evictions included, at the
 *   engine's block size (as if it consumed vLLM's KV events), `router.kvEventDelayMs` late;
 * - approximate: what the live router does without KV events (src/router/load_book.ts): when
 *   a prefill completes it records the request's full 512-token blocks on the prefill and
 *   decode endpoints, in its own LRU per endpoint as large as an engine's prefix cache, and is
 *   never told what the engine evicted. (The live router's characters / 4 token estimate has
 *   no counterpart here: simulated prompts have exact token counts.)
 */
import type { ScoringCore } from "../core/scoring_core.ts";
import { PrefixCache } from "../engine_model/prefix_cache.ts";
import type { SimRequest } from "../workload/request.ts";
import { PREFIX_BLOCK_TOKENS } from "../workload/synthetic.ts";
import type { SimConfig } from "./config.ts";

/** The longest prompt prefix (tokens) the router matches: 512 blocks of 512, as before. */
const MATCHED_TOKENS = 512 * PREFIX_BLOCK_TOKENS;

/** The block size the router's prefix index (and the core's `prefixBlockTokens`) works in. */
export function routerBlockTokens(config: SimConfig): number {
  return config.router.prefixKnowledge === "precise"
    ? config.engine.prefixBlockTokens
    : PREFIX_BLOCK_TOKENS;
}

/** How many prefix blocks of one request the core is sized for and given. */
export function requestBlockCapacity(config: SimConfig): number {
  return MATCHED_TOKENS / routerBlockTokens(config);
}

/** Engine block `j` inside workload block `id`: a 32-bit mix of both (murmur3's finaliser). */
function subBlockId(id: number, j: number): number {
  let h = (Math.imul(id >>> 0, 0x9e3779b1) + Math.imul(j + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** `req`'s prefix blocks at the engine's block size (the same array at 512 tokens). */
export function engineBlocks(req: SimRequest, blockTokens: number): readonly number[] {
  if (blockTokens === PREFIX_BLOCK_TOKENS) return req.prefixBlocks;
  const per = PREFIX_BLOCK_TOKENS / blockTokens;
  const count = Math.min(
    Math.floor(req.promptTokens / blockTokens),
    req.prefixBlocks.length * per,
  );
  const out = new Array<number>(count);
  for (let j = 0; j < count; j++) {
    out[j] = subBlockId(req.prefixBlocks[Math.floor(j / per)], j % per);
  }
  return out;
}

/** The request as the engines see it: its prefix blocks at their block size. */
export function engineRequest(req: SimRequest, blockTokens: number): SimRequest {
  const blocks = engineBlocks(req, blockTokens);
  return blocks === req.prefixBlocks ? req : { ...req, prefixBlocks: blocks };
}

/**
 * The blocks the router matches for a request: the engine's (precise) or the full 512-token
 * workload blocks (approximate), at most `cap` of them.
 */
export function routerBlocks(
  knowledge: SimConfig["router"]["prefixKnowledge"],
  req: SimRequest,
  atEngine: readonly number[],
  cap: number,
): readonly number[] {
  if (knowledge === "precise") return atEngine.length > cap ? atEngine.slice(0, cap) : atEngine;
  const full = Math.min(
    req.prefixBlocks.length,
    Math.floor(req.promptTokens / PREFIX_BLOCK_TOKENS),
    cap,
  );
  return full === req.prefixBlocks.length ? req.prefixBlocks : req.prefixBlocks.slice(0, full);
}

/** The approximate router's own LRU per endpoint, mirrored into its core's prefix index. */
export class PrefixMirror {
  readonly #lru: PrefixCache[];
  /** (endpoint, block) pairs the core had no room for. */
  overflow = 0;

  constructor(endpoints: number, capacityBlocks: number) {
    this.#lru = Array.from({ length: endpoints }, () => new PrefixCache(capacityBlocks));
  }

  /** The router believes endpoint `e` now holds `blocks` (most recently used). */
  record(core: ScoringCore, e: number, blocks: readonly number[]): void {
    if (blocks.length === 0) return;
    const { added, evicted } = this.#lru[e].insert(blocks);
    if (evicted.length > 0) core.removePrefixBlocks(e, evicted);
    if (added.length > 0) this.overflow += core.addPrefixBlocks(e, added);
  }
}

/** The approximate mirror's capacity: an engine's prefix cache, counted in 512-token blocks. */
export function mirrorCapacityBlocks(config: SimConfig, gpuKvTokens: number): number {
  return Math.floor(config.engine.prefixCacheFraction * gpuKvTokens / PREFIX_BLOCK_TOKENS);
}
