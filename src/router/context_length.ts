/**
 * Requests no engine can hold are refused at the router, at once, with vLLM's 400, instead of
 * waiting for capacity that never comes. The bound is the largest `max_model_len` the engines
 * report for the model (`/v1/models`). The router has no tokenizer, so it counts a lower bound
 * of the prompt's tokens: token-id prompts exactly, text at `MAX_CHARS_PER_TOKEN` characters
 * per token at most (BPE vocabularies average about 4): it refuses only what is too long
 * whatever the tokenizer, and requests near the limit go to an engine, which counts exactly.
 */
import type { Api, RequestBody } from "../openai/request.ts";

/** No tokenizer of the models vLLM serves averages more characters per token than this. */
export const MAX_CHARS_PER_TOKEN = 8;

/** A lower bound of the prompt's tokens. */
export function minPromptTokens(body: RequestBody, api: Api, text: string): number {
  const prompt = api === "completions" ? body.prompt : undefined;
  if (Array.isArray(prompt) && prompt.length > 0 && typeof prompt[0] !== "string") {
    return (prompt as (number | number[])[]).flat().length;
  }
  return Math.ceil(text.length / MAX_CHARS_PER_TOKEN);
}

/**
 * vLLM's message when prompt + output cannot fit in `maxModelLen`, or null when it may fit.
 * `maxTokens` is the client's output limit (null: none, so only the prompt counts).
 */
export function contextLengthProblem(
  minPrompt: number,
  maxTokens: number | null,
  maxModelLen: number,
): string | null {
  const output = maxTokens ?? 0;
  if (minPrompt + output <= maxModelLen) return null;
  return `This model's maximum context length is ${maxModelLen} tokens. However, you requested ` +
    `at least ${minPrompt + output} tokens (at least ${minPrompt} in the prompt, ${output} in ` +
    `the completion). Please reduce the length of the prompt or completion.`;
}
