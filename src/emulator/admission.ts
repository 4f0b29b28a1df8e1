/**
 * Admission: a completion request is parsed and checked as vLLM checks it (model name, n,
 * context length, prefill-only requests must not stream, remote-prefill params), the fault
 * knobs are drawn in a fixed order (so a seed reproduces the same faults), and an admitted
 * request becomes a `Live` job on the engine, or parked for its KV pull.
 */
import { newJob } from "../engine_model/job.ts";
import { errorResponse } from "../openai/errors.ts";
import { prefixBlockIds } from "../openai/prefix_blocks.ts";
import {
  type Api,
  BadRequest,
  maxTokensOf,
  parseRequestBody,
  type RequestBody,
} from "../openai/request.ts";
import { estimateTokens, promptText } from "../openai/tokens.ts";
import type { SimRequest } from "../workload/request.ts";
import { PREFIX_BLOCK_TOKENS } from "../workload/synthetic.ts";
import { checkRemoteParams, unpark } from "./kv_handoff.ts";
import { brokenResponse, type Live, type Mode } from "./live.ts";
import { abandon, endAll } from "./output.ts";
import { ChunkWriter } from "./responses.ts";
import type { EmulatorState } from "./state.ts";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The engine dies: streams break mid-way, pending answers fail, the port closes. */
export function die(s: EmulatorState): void {
  if (s.dead) return;
  s.dead = true;
  endAll(s, null);
  void s.server?.shutdown();
  void s.kv?.close(); // a dead engine's KV event publisher goes with it
}

export async function complete(
  s: EmulatorState,
  req: Request,
  path: string,
  api: Api,
): Promise<Response> {
  let body: RequestBody;
  try {
    body = parseRequestBody(await req.text(), api);
  } catch (e) {
    if (e instanceof BadRequest) {
      return errorResponse(400, e.message, "invalid_request_error", { param: e.param });
    }
    throw e;
  }
  const requestId = req.headers.get("x-request-id");
  s.received.push({ path, requestId, body });
  if (s.received.length > 10_000) s.received.splice(0, 5_000);
  if (body.model !== s.options.servedModelName) {
    return errorResponse(
      404,
      `The model \`${body.model}\` does not exist.`,
      "not_found_error",
      { param: "model" },
    );
  }
  if ((body.n ?? 1) !== 1) {
    return errorResponse(
      400,
      `the emulator serves n=1 only: current value is ${body.n}`,
      "invalid_request_error",
      { param: "n" },
    );
  }
  // Fault knobs, in a fixed order so a seed reproduces the same faults.
  const f = s.faults;
  s.requests++;
  if (f.dieAfter > 0 && s.requests > f.dieAfter) {
    die(s);
    return brokenResponse();
  }
  if (f.extraLatencyMs > 0) await delay(f.extraLatencyMs);
  if (s.dead) return brokenResponse();
  // A client that went away during the extra latency is not admitted (nothing runs for it).
  if (req.signal.aborted) return brokenResponse();
  const drawError = s.rng.float(), drawStall = s.rng.float();
  const drawTruncate = s.rng.float();
  if (drawError < f.errorRate) {
    return errorResponse(500, "emulated engine error (fault: errorRate)", "server_error");
  }
  if (drawStall < f.stallRate) return stall(s, req);
  return admit(s, req, api, body, requestId, drawTruncate < f.truncateRate);
}

/** Accepted, never answered: resolves only when the client gives up or the emulator stops. */
function stall(s: EmulatorState, req: Request): Promise<Response> {
  return new Promise((resolve) => {
    const release = () => {
      s.stalled.delete(release);
      resolve(brokenResponse());
    };
    s.stalled.add(release);
    req.signal.addEventListener("abort", release, { once: true });
  });
}

function admit(
  s: EmulatorState,
  req: Request,
  api: Api,
  body: RequestBody,
  requestId: string | null,
  truncate: boolean,
): Response | Promise<Response> {
  let ids: number[] | null = null;
  try {
    ids = s.kv?.tokenIds(body, api) ?? null;
  } catch (e) {
    return errorResponse(
      400,
      `cannot tokenize the prompt: ${(e as Error).message}`,
      "invalid_request_error",
    );
  }
  const text = ids === null ? promptText(body, api) : "";
  const promptTokens = Math.max(1, ids === null ? estimateTokens(text) : ids.length);
  const maxTokens = maxTokensOf(body) ?? s.options.defaultMaxTokens;
  const maxModelLen = s.options.maxModelLen;
  if (promptTokens + maxTokens > maxModelLen) {
    return errorResponse(
      400,
      `This model's maximum context length is ${maxModelLen} tokens. However, ` +
        `you requested ${promptTokens + maxTokens} tokens (${promptTokens} in the prompt, ` +
        `${maxTokens} in the completion). Please reduce the length of the prompt or completion.`,
      "BadRequestError",
    );
  }
  const kv = body.kv_transfer_params ?? null;
  const prefillOnly = kv?.do_remote_decode === true;
  const remotePrefill = kv?.do_remote_prefill === true;
  const stream = body.stream === true;
  if (prefillOnly && stream) {
    return errorResponse(
      400,
      "a prefill request (kv_transfer_params.do_remote_decode: true) must not stream: " +
        "current value of 'stream' is true",
      "invalid_request_error",
      { param: "stream" },
    );
  }
  if (remotePrefill) {
    const problem = checkRemoteParams(kv!);
    if (problem) {
      return errorResponse(400, problem, "invalid_request_error", {
        param: "kv_transfer_params",
      });
    }
  }
  const request: SimRequest = {
    id: s.nextId++,
    arrivalMs: s.clock.now(),
    promptTokens,
    outputTokens: prefillOnly ? 1 : maxTokens,
    prefixBlocks: ids === null ? prefixBlockIds(text, PREFIX_BLOCK_TOKENS) : s.kv!.blocks(ids),
  };
  const job = newJob(request, prefillOnly ? "prefill" : remotePrefill ? "decode" : "full");
  const mode: Mode = prefillOnly ? "prefill" : stream ? "stream" : "json";
  const id = `${api === "chat" ? "chatcmpl" : "cmpl"}-${requestId ?? `emu${request.id}`}`;
  const created = Math.floor(Date.now() / 1000);
  const includeUsage = body.stream_options?.include_usage === true;
  const live: Live = {
    id,
    api,
    job,
    mode,
    arrivalWall: performance.now(),
    writer: mode === "stream" ? new ChunkWriter(api, id, created, body.model, includeUsage) : null,
    truncateAfter: truncate ? Math.floor(maxTokens / 2) : Infinity,
    sent: 0,
    firstWall: NaN,
    lastWall: NaN,
    done: false,
    controller: null,
    resolve: null,
    transferTimer: undefined,
    remote: remotePrefill ? kv : null,
    reservedKv: 0,
  };
  s.live.set(job, live);
  const headers = { "x-request-id": requestId ?? id };
  let response: Response | Promise<Response>;
  if (mode === "stream") {
    const streamBody = new ReadableStream<Uint8Array>({
      start: (c) => {
        live.controller = c;
      },
      cancel: () => abandon(s, live),
    });
    response = new Response(streamBody, {
      headers: {
        ...headers,
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
      },
    });
  } else {
    response = new Promise<Response>((resolve) => {
      live.resolve = resolve;
    });
    req.signal.addEventListener("abort", () => abandon(s, live), { once: true });
  }
  if (remotePrefill) {
    s.parked.push(live);
    unpark(s);
  } else {
    s.enqueue(job);
  }
  return response;
}
