/**
 * Prompt text for a workload request, so that the engines and the router see what the
 * workload describes: `promptTokens` x CHARS_PER_TOKEN characters (the chars/4 estimate both
 * use counts them back exactly), cut into prefix blocks whose text is a function of the block
 * id. Requests sharing leading block ids share leading text, so the engines' prefix caches and
 * the router's prefix hashes see the shared prefixes the workload meant.
 *
 * A run nonce is mixed into every block's text: live engines keep their caches between runs,
 * and without it a second run (another policy, another layout) would start with the first
 * run's prefixes cached, unlike the simulator where every run starts cold.
 */
import { CHARS_PER_TOKEN } from "../openai/tokens.ts";
import type { SimRequest } from "../workload/request.ts";

export function promptFor(
  request: SimRequest,
  blockTokens: number,
  nonce: string,
): string {
  const total = request.promptTokens * CHARS_PER_TOKEN;
  const blockChars = blockTokens * CHARS_PER_TOKEN;
  const parts: string[] = [];
  let length = 0;
  for (let b = 0; length < total; b++) {
    // Blocks beyond the listed ids (or none listed) are unique to this request.
    const id = b < request.prefixBlocks.length
      ? `${request.prefixBlocks[b]}`
      : `r${request.id}.${b}`;
    const unit = `<${nonce}:${id}> `;
    const size = Math.min(blockChars, total - length);
    parts.push(unit.repeat(Math.ceil(size / unit.length)).slice(0, size));
    length += size;
  }
  return parts.join("");
}
