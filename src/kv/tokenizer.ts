/**
 * The model's tokenizer, so the router (and the emulator) compute the token ids the engine
 * computes: a model directory's `tokenizer.json` (via @huggingface/tokenizers) and the chat
 * template of its `tokenizer_config.json` (rendered with @huggingface/jinja). As vLLM does, a
 * chat request is rendered with `add_generation_prompt: true` and encoded without adding
 * special tokens (the template writes them); a completion prompt is encoded with them; a
 * prompt given as token ids is taken as is.
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { Template } from "@huggingface/jinja";
import { join } from "node:path";

export class TokenizerError extends Error {
  override name = "TokenizerError";
}

type Message = { readonly role?: unknown; readonly content?: unknown };

export class PromptTokenizer {
  readonly #tok: Tokenizer;
  readonly #template: Template | null;
  readonly #special: Record<string, unknown>;

  constructor(readonly dir: string, tokenizerJson: object, config: Record<string, unknown>) {
    this.#tok = new Tokenizer(tokenizerJson, config);
    const chat = config.chat_template;
    this.#template = typeof chat === "string" ? new Template(chat) : null;
    const special: Record<string, unknown> = {};
    for (const k of ["bos_token", "eos_token", "pad_token", "unk_token"]) {
      const v = config[k];
      special[k] = typeof v === "string" ? v : (v as { content?: unknown } | undefined)?.content;
    }
    this.#special = special;
  }

  /** Token ids of a request body (`api`: completions or chat). */
  promptIds(body: Record<string, unknown>, api: "completions" | "chat"): number[] {
    if (api === "chat") {
      if (!this.#template) {
        throw new TokenizerError(`${this.dir}/tokenizer_config.json has no chat_template`);
      }
      const messages = (body.messages as readonly Message[]).map((m) => ({
        role: m.role,
        content: contentText(m.content),
      }));
      const text = this.#template.render({
        messages,
        add_generation_prompt: true,
        ...this.#special,
      });
      return this.#tok.encode(text, { add_special_tokens: false }).ids;
    }
    const prompt = body.prompt;
    if (typeof prompt === "string") return this.#tok.encode(prompt).ids;
    if (Array.isArray(prompt)) {
      if (prompt.every((p) => typeof p === "number")) return prompt as number[];
      if (prompt.every((p) => typeof p === "string")) {
        return prompt.flatMap((p) => this.#tok.encode(p as string).ids);
      }
      return (prompt as unknown[]).flat().filter((p): p is number => typeof p === "number");
    }
    return [];
  }
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let out = "";
  for (const part of content) if (typeof part?.text === "string") out += part.text;
  return out;
}

/** Loads `dir/tokenizer.json` and `dir/tokenizer_config.json`; errors name the file and problem. */
export async function loadTokenizer(dir: string): Promise<PromptTokenizer> {
  const read = async (name: string): Promise<Record<string, unknown>> => {
    const path = join(dir, name);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      throw new TokenizerError(`cannot read tokenizer file ${path}: ${(e as Error).message}`);
    }
    try {
      const v = JSON.parse(text);
      if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
      return v;
    } catch (e) {
      throw new TokenizerError(`${path} is not a JSON object: ${(e as Error).message}`);
    }
  };
  const json = await read("tokenizer.json");
  const config = await read("tokenizer_config.json");
  try {
    return new PromptTokenizer(dir, json, config);
  } catch (e) {
    throw new TokenizerError(`cannot build a tokenizer from ${dir}: ${(e as Error).message}`);
  }
}
