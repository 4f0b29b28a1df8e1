/**
 * Prefix block ids from prompt text, the router's handle on KV locality. The prompt is cut
 * into blocks of `blockTokens` estimated tokens (CHARS_PER_TOKEN characters each); block i's
 * id is a 32-bit FNV-1a hash chained over blocks 0..i, so two prompts share block i's id
 * exactly when they share the whole text up to the end of block i (as vLLM's block hashes
 * chain the parent hash). Only full blocks count: an engine caches whole blocks.
 */
import { CHARS_PER_TOKEN } from "./tokens.ts";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Ids of the full prefix blocks of `text`, at most `maxBlocks` of them. */
export function prefixBlockIds(text: string, blockTokens: number, maxBlocks = Infinity): number[] {
  const blockChars = blockTokens * CHARS_PER_TOKEN;
  const count = Math.min(Math.floor(text.length / blockChars), maxBlocks);
  const ids: number[] = new Array(count);
  let h = FNV_OFFSET;
  for (let b = 0; b < count; b++) {
    const end = (b + 1) * blockChars;
    for (let i = b * blockChars; i < end; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, FNV_PRIME);
    }
    ids[b] = h >>> 0;
  }
  return ids;
}
