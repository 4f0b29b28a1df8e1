/**
 * Prompt text and token counts without a tokenizer. The router, the emulator and the driver
 * must agree on how long a prompt is and which prefix blocks it holds, and none of them can
 * load the model's tokenizer here, so all three estimate: one token per `CHARS_PER_TOKEN`
 * characters (rounded up), the usual rule of thumb for English BPE vocabularies. A real vLLM
 * counts exactly; the router's estimate only steers placement, so being off by a few percent
 * moves predictions, not correctness.
 */

export const CHARS_PER_TOKEN = 4;

/** Estimated tokens in `text`: ceil(chars / CHARS_PER_TOKEN), at least 1 for non-empty text. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

type ChatContent = string | readonly { readonly type?: unknown; readonly text?: unknown }[] | null;

/** The text of a chat message's content (string, or the text parts of a content array). */
function contentText(content: ChatContent | undefined): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let out = "";
  for (const part of content) if (typeof part?.text === "string") out += part.text;
  return out;
}

/**
 * The prompt as one string, for counting and prefix hashing. Completions: the prompt string,
 * or several prompts concatenated, or token ids rendered as text (so equal id prefixes hash
 * alike). Chat: message contents joined by newlines (a single user message maps to its text
 * exactly, which is what the driver sends).
 */
export function promptText(body: Record<string, unknown>, api: "completions" | "chat"): string {
  if (api === "chat") {
    const messages = body.messages as readonly { content?: ChatContent }[];
    return messages.map((m) => contentText(m?.content)).join("\n");
  }
  const prompt = body.prompt;
  if (typeof prompt === "string") return prompt;
  if (Array.isArray(prompt)) {
    if (prompt.every((p) => typeof p === "string")) return prompt.join("");
    // Token ids: each id stands for one token of CHARS_PER_TOKEN characters.
    return prompt.flat().map((id) => String(id).padStart(CHARS_PER_TOKEN, " ")).join("");
  }
  return "";
}
