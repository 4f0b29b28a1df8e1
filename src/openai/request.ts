/**
 * The part of an OpenAI completions / chat request that pdroute reads, validated with zod.
 * Everything else passes through untouched (the schemas are loose on purpose: engines accept
 * many extensions such as vLLM's `ignore_eos` or `kv_transfer_params`), but what is read must
 * be well-formed, and a bad field is reported by name and value as a 400.
 */
import { z } from "zod";
import { formatSchemaError } from "../core/config.ts";

export type Api = "completions" | "chat";

const tokenLimit = z.number().int().min(1).nullable().optional();

const common = {
  model: z.string().min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().nullable().optional() }).loose()
    .nullable().optional(),
  max_tokens: tokenLimit,
  n: z.number().int().min(1).nullable().optional(),
  kv_transfer_params: z.record(z.string(), z.unknown()).nullable().optional(),
};

const completionSchema = z.object({
  ...common,
  prompt: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number().int().min(0)).min(1),
    z.array(z.array(z.number().int().min(0)).min(1)).min(1),
  ]),
}).loose();

const messageSchema = z.object({
  role: z.string().min(1),
  content: z.union([z.string(), z.array(z.object({}).loose()), z.null()]).optional(),
}).loose();

const chatSchema = z.object({
  ...common,
  messages: z.array(messageSchema).min(1),
  max_completion_tokens: tokenLimit,
}).loose();

export type CompletionBody = z.infer<typeof completionSchema>;
export type ChatBody = z.infer<typeof chatSchema>;
export type RequestBody = (CompletionBody | ChatBody) & Record<string, unknown>;

export class BadRequest extends Error {
  override name = "BadRequest";
  constructor(message: string, readonly param: string | null = null) {
    super(message);
  }
}

/** Parses and checks a request body; throws `BadRequest` naming the problem. */
export function parseRequestBody(text: string, api: Api): RequestBody {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BadRequest(`request body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new BadRequest("request body must be a JSON object");
  }
  const schema = api === "chat" ? chatSchema : completionSchema;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BadRequest(
      formatSchemaError(`${api} request`, parsed.error, raw),
      issue.path.map(String).join(".") || null,
    );
  }
  return parsed.data as RequestBody;
}

/** The output-token limit the client set (chat: `max_completion_tokens` wins), or null. */
export function maxTokensOf(body: RequestBody): number | null {
  const chat = (body as ChatBody).max_completion_tokens;
  return chat ?? body.max_tokens ?? null;
}
