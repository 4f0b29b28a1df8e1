/**
 * Intake of a completion request: JSON only, read the body (size- and time-limited), validate
 * it, check the model name and that some engine can hold it, estimate prompt tokens and prefix
 * blocks, and hand the new `Flight` to the retry loop.
 */
import { errorResponse, type ErrorType } from "../openai/errors.ts";
import { prefixBlockIds } from "../openai/prefix_blocks.ts";
import {
  type Api,
  BadRequest,
  maxTokensOf,
  parseRequestBody,
  type RequestBody,
} from "../openai/request.ts";
import { estimateTokens, promptText } from "../openai/tokens.ts";
import { BodyTimeout, BodyTooLarge, NotJson, readBody, requireJson } from "./body.ts";
import { contextLengthProblem, minPromptTokens } from "./context_length.ts";
import { finishFlight, MAX_REQUEST_BLOCKS, type RouterContext } from "./context.ts";
import type { Flight } from "./flight.ts";
import { serveFlight } from "./retry.ts";

/** A client error the router answers itself (counted by status). */
export function badRequest(
  ctx: RouterContext,
  status: number,
  message: string,
  param: string | null = null,
  type: ErrorType = status === 404 ? "not_found_error" : "invalid_request_error",
): Response {
  ctx.metrics.badRequests.inc({ status: String(status) });
  return errorResponse(status, message, type, { param });
}

/** `completed` (Deno.serve's handler info) settles once the response is sent. */
export async function complete(
  ctx: RouterContext,
  req: Request,
  path: string,
  api: Api,
  completed: Promise<void> | null,
): Promise<Response> {
  const arrival = ctx.now();
  let body: RequestBody;
  let raw: string;
  const limits = ctx.config.limits;
  try {
    requireJson(req);
    raw = await readBody(req, limits.maxBodyBytes, limits.bodyTimeoutMs);
    body = parseRequestBody(raw, api);
  } catch (e) {
    if (e instanceof NotJson) {
      await req.body?.cancel().catch(() => {});
      return badRequest(ctx, 415, e.message);
    }
    if (e instanceof BodyTimeout) return badRequest(ctx, 408, e.message);
    if (e instanceof BodyTooLarge) return badRequest(ctx, 413, e.message);
    if (e instanceof BadRequest) return badRequest(ctx, 400, e.message, e.param);
    throw e;
  }
  const ids = ctx.models.ids;
  if (ids.size > 0 && !ids.has(body.model)) {
    return badRequest(
      ctx,
      404,
      `The model \`${body.model}\` does not exist; served: ${[...ids].join(", ")}`,
      "model",
    );
  }
  const text = promptText(body, api);
  const maxTokens = maxTokensOf(body);
  const maxModelLen = ctx.models.maxModelLen.get(body.model);
  if (maxModelLen !== undefined) {
    const problem = contextLengthProblem(minPromptTokens(body, api, text), maxTokens, maxModelLen);
    if (problem) return badRequest(ctx, 400, problem, null, "BadRequestError");
  }
  // Precise KV mode: the engines' token ids and blocks (kv_precise.ts); else estimates.
  const precise = ctx.kv?.prompt(body, api) ?? null;
  const promptTokens = Math.max(1, precise?.tokens ?? estimateTokens(text));
  ctx.prompts.sum += promptTokens;
  ctx.prompts.count++;
  const f: Flight = {
    id: req.headers.get("x-request-id") ?? crypto.randomUUID(),
    api,
    path,
    body,
    raw,
    stream: body.stream === true,
    promptTokens,
    blocks: precise?.blocks ??
      (ctx.kv ? [] : prefixBlockIds(text, ctx.core.config.prefixBlockTokens, MAX_REQUEST_BLOCKS)),
    maxTokens,
    arrival,
    signal: req.signal,
    completed,
    routed: null,
    queueMs: 0,
    migrations: 0,
    abort: null,
    moving: false,
    prefillCached: null,
    calling: -1,
  };
  ctx.flights.add(f);
  let handedOff = false;
  try {
    const res = await serveFlight(ctx, f);
    handedOff = res.handedOff;
    return res.response;
  } finally {
    if (!handedOff) finishFlight(ctx, f);
  }
}
