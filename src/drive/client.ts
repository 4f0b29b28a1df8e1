/**
 * One request against any OpenAI-compatible server (the router, an emulator, vLLM), measured
 * from the client's side of the stream: TTFT is the first data event, TPOT the time from the
 * first to the last token over the tokens after the first, E2E the whole exchange. Token
 * counts come from the usage chunk (`stream_options.include_usage`), else from the events.
 * When the server is the pdroute router, its `x-pdroute-*` headers say where the request ran.
 */
import { DONE, SseDecoder } from "../openai/sse.ts";
import type { Api } from "../openai/request.ts";

export type ClientStatus = "ok" | "shed" | "rejected" | "failed";

export interface ClientResult {
  readonly status: ClientStatus;
  /** Wall ms from send to first token / last token / end, NaN when not reached. */
  readonly ttftMs: number;
  readonly lastTokenMs: number;
  readonly e2eMs: number;
  readonly outputTokens: number;
  readonly cachedTokens: number;
  /** Router headers: endpoint indexes, router queue wait, migrations (-1 / 0 without). */
  readonly prefill: number;
  readonly decode: number;
  readonly routerQueueMs: number;
  readonly migrations: number;
  /** Why it was not ok (status line and message), empty when ok. */
  readonly error: string;
}

export interface ClientRequest {
  readonly api: Api;
  readonly model: string;
  readonly prompt: string;
  readonly maxTokens: number;
  readonly stream: boolean;
  readonly requestId?: string;
}

export function requestBody(r: ClientRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { model: r.model };
  if (r.api === "chat") body.messages = [{ role: "user", content: r.prompt }];
  else body.prompt = r.prompt;
  // Exactly max_tokens: the workload fixes output lengths (vLLM: ignore_eos, min_tokens).
  body.max_tokens = r.maxTokens;
  body.min_tokens = r.maxTokens;
  body.ignore_eos = true;
  body.stream = r.stream;
  if (r.stream) body.stream_options = { include_usage: true };
  return body;
}

interface Usage {
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

function statusOf(httpStatus: number): ClientStatus {
  if (httpStatus === 503 || httpStatus === 429) return "shed";
  if (httpStatus >= 400 && httpStatus < 500) return "rejected";
  return "failed";
}

function headerNumber(h: Headers, name: string, missing: number): number {
  const v = h.get(name);
  const n = v === null ? NaN : Number(v);
  return Number.isFinite(n) ? n : missing;
}

export async function sendRequest(
  baseUrl: string,
  r: ClientRequest,
  signal?: AbortSignal,
): Promise<ClientResult> {
  const t0 = performance.now();
  const path = r.api === "chat" ? "/v1/chat/completions" : "/v1/completions";
  const result = (
    status: ClientStatus,
    fields: Partial<ClientResult> = {},
  ): ClientResult => ({
    status,
    ttftMs: NaN,
    lastTokenMs: NaN,
    e2eMs: performance.now() - t0,
    outputTokens: 0,
    cachedTokens: 0,
    prefill: -1,
    decode: -1,
    routerQueueMs: 0,
    migrations: 0,
    error: "",
    ...fields,
  });
  let res: Response;
  try {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (r.requestId) headers["x-request-id"] = r.requestId;
    res = await fetch(`${baseUrl}${path}`, {
      method: "POST",
      headers,
      body: JSON.stringify(requestBody(r)),
      signal,
    });
  } catch (e) {
    return result("failed", { error: `connection: ${(e as Error).message}` });
  }
  const route = {
    prefill: headerNumber(res.headers, "x-pdroute-prefill", -1),
    decode: headerNumber(res.headers, "x-pdroute-decode", -1),
    routerQueueMs: headerNumber(res.headers, "x-pdroute-queue-ms", 0),
    migrations: headerNumber(res.headers, "x-pdroute-migrations", 0),
    /** Disaggregated: what the prefill engine had cached (the decode usage cannot say). */
    prefillCached: headerNumber(res.headers, "x-pdroute-cached-tokens", -1),
  };
  const cached = (usage: Usage | null | undefined) =>
    route.prefillCached >= 0
      ? route.prefillCached
      : usage?.prompt_tokens_details?.cached_tokens ?? 0;
  if (!res.ok) {
    const text = await res.text().catch(() => "");
    return result(statusOf(res.status), {
      ...route,
      error: `HTTP ${res.status}: ${text.slice(0, 300)}`,
    });
  }
  if (!r.stream) {
    try {
      const json = JSON.parse(await res.text()) as { usage?: Usage };
      const end = performance.now() - t0;
      return result("ok", {
        ...route,
        ttftMs: end,
        lastTokenMs: end,
        e2eMs: end,
        outputTokens: json.usage?.completion_tokens ?? 0,
        cachedTokens: cached(json.usage),
      });
    } catch (e) {
      return result("failed", { ...route, error: `body: ${(e as Error).message}` });
    }
  }
  const decoder = new SseDecoder();
  let first = NaN, last = NaN, events = 0, done = false;
  let usage: Usage | null = null;
  try {
    for await (const chunk of res.body!) {
      const now = performance.now() - t0;
      for (const data of decoder.push(chunk)) {
        if (data === DONE) {
          done = true;
          continue;
        }
        const event = JSON.parse(data) as {
          error?: { message?: string };
          choices?: { text?: string; delta?: { content?: string } }[];
          usage?: Usage | null;
        };
        if (event.error) {
          return result("failed", {
            ...route,
            ttftMs: first,
            error: `stream error event: ${event.error.message}`,
          });
        }
        if (event.usage) usage = event.usage;
        const choice = event.choices?.[0];
        const text = choice?.text ?? choice?.delta?.content;
        if (text) {
          events++;
          if (Number.isNaN(first)) first = now;
          last = now;
        }
      }
    }
  } catch (e) {
    return result("failed", {
      ...route,
      ttftMs: first,
      error: `stream broke: ${(e as Error).message}`,
    });
  }
  if (!done) {
    return result("failed", { ...route, ttftMs: first, error: "stream ended without [DONE]" });
  }
  return result("ok", {
    ...route,
    ttftMs: first,
    lastTokenMs: last,
    outputTokens: usage?.completion_tokens ?? events,
    cachedTokens: cached(usage),
  });
}
