/**
 * The bodies an OpenAI-compatible vLLM server writes, for completions and chat: streaming
 * chunks (prebuilt as prefix + token + suffix, so a token costs a string concat, not a
 * JSON.stringify), the usage chunk, and whole non-streaming responses.
 */
import type { Api } from "../openai/request.ts";

/** Output "tokens": 4-character words, so the router's chars/4 estimate counts them exactly. */
const WORDS = [" the", " and", " for", " you", " not", " are", " all", " new", " was", " can"];

export function tokenText(i: number): string {
  return WORDS[i % WORDS.length];
}

export function outputText(tokens: number): string {
  let out = "";
  for (let i = 0; i < tokens; i++) out += tokenText(i);
  return out;
}

export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
  readonly prompt_tokens_details: { readonly cached_tokens: number };
}

export function usage(prompt: number, completion: number, cached: number): Usage {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

/** Builds the SSE chunks of one streamed response. */
export class ChunkWriter {
  readonly #head: string;
  readonly #tail: string;
  readonly #lastTail: string;

  constructor(
    readonly api: Api,
    readonly id: string,
    readonly created: number,
    readonly model: string,
    readonly includeUsage: boolean,
  ) {
    const usageField = includeUsage ? `,"usage":null` : "";
    if (api === "chat") {
      this.#head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},` +
        `"model":${JSON.stringify(model)},"choices":[{"index":0,"delta":{"content":"`;
      this.#tail = `"},"logprobs":null,"finish_reason":null}]${usageField}}\n\n`;
      this.#lastTail =
        `"},"logprobs":null,"finish_reason":"length","stop_reason":null}]${usageField}}\n\n`;
    } else {
      this.#head = `data: {"id":"${id}","object":"text_completion","created":${created},` +
        `"model":${JSON.stringify(model)},"choices":[{"index":0,"text":"`;
      this.#tail = `","logprobs":null,"finish_reason":null,"stop_reason":null}]${usageField}}\n\n`;
      this.#lastTail =
        `","logprobs":null,"finish_reason":"length","stop_reason":null}]${usageField}}\n\n`;
    }
  }

  /** Chat streams open with a role-only delta (as vLLM and OpenAI do). */
  opening(): string {
    if (this.api !== "chat") return "";
    const usageField = this.includeUsage ? `,"usage":null` : "";
    return `data: {"id":"${this.id}","object":"chat.completion.chunk","created":${this.created},` +
      `"model":${
        JSON.stringify(this.model)
      },"choices":[{"index":0,"delta":{"role":"assistant","content":""},` +
      `"logprobs":null,"finish_reason":null}]${usageField}}\n\n`;
  }

  token(i: number, last: boolean): string {
    return this.#head + tokenText(i) + (last ? this.#lastTail : this.#tail);
  }

  usage(u: Usage): string {
    const object = this.api === "chat" ? "chat.completion.chunk" : "text_completion";
    return `data: ${
      JSON.stringify({
        id: this.id,
        object,
        created: this.created,
        model: this.model,
        choices: [],
        usage: u,
      })
    }\n\n`;
  }
}

/** A whole (non-streaming) response. */
export function completeResponse(
  api: Api,
  id: string,
  created: number,
  model: string,
  tokens: number,
  u: Usage,
  kvTransferParams: Record<string, unknown> | null,
): Record<string, unknown> {
  const text = outputText(tokens);
  if (api === "chat") {
    return {
      id,
      object: "chat.completion",
      created,
      model,
      choices: [{
        index: 0,
        message: { role: "assistant", content: text, tool_calls: [] },
        logprobs: null,
        finish_reason: "length",
        stop_reason: null,
      }],
      usage: u,
      prompt_logprobs: null,
      kv_transfer_params: kvTransferParams,
    };
  }
  return {
    id,
    object: "text_completion",
    created,
    model,
    choices: [{
      index: 0,
      text,
      logprobs: null,
      finish_reason: "length",
      stop_reason: null,
      prompt_logprobs: null,
    }],
    usage: u,
    kv_transfer_params: kvTransferParams,
  };
}
