/**
 * The emulator's HTTP surface, under vLLM's paths: `/health`, `/v1/models` (with
 * `max_model_len`), `/metrics` (and its fault modes), `/version`, the completion routes, and
 * the KV pull that stands in for the NIXL read. vLLM answers unknown paths with FastAPI's 404.
 */
import { complete } from "./admission.ts";
import { pullHandler } from "./kv_handoff.ts";
import { brokenResponse } from "./live.ts";
import type { EmulatorState } from "./state.ts";

export async function handle(s: EmulatorState, req: Request): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (s.dead) return brokenResponse();
  if (req.method === "GET") {
    if (path === "/health") return new Response(null, { status: 200 });
    if (path === "/v1/models") return Response.json(models(s));
    if (path === "/metrics") return await metricsResponse(s);
    if (path === "/version") return Response.json({ version: "pdroute-emulator" });
  }
  if (req.method === "POST") {
    if (path === "/v1/completions") return await complete(s, req, path, "completions");
    if (path === "/v1/chat/completions") return await complete(s, req, path, "chat");
    if (path === "/emulator/kv/pull") return await pullHandler(s, req);
    if (path === "/reset_prefix_cache") return resetPrefixCache(s);
  }
  return Response.json({ detail: "Not Found" }, { status: 404 });
}

/**
 * vLLM's POST /reset_prefix_cache: the prefix cache is emptied (AllBlocksCleared), unless
 * running sequences hold some of its blocks (a shared pool), when vLLM declines.
 */
function resetPrefixCache(s: EmulatorState): Response {
  if (s.engine.prefixCache.clear()) s.kv?.cleared();
  return new Response(null, { status: 200 });
}

function models(s: EmulatorState) {
  return {
    object: "list",
    data: [{
      id: s.options.servedModelName,
      object: "model",
      created: Math.floor(Date.now() / 1000),
      owned_by: "vllm",
      root: s.setup.model.name,
      parent: null,
      max_model_len: s.options.maxModelLen,
    }],
  };
}

async function metricsResponse(s: EmulatorState): Promise<Response> {
  const fault = s.faults.brokenMetrics;
  if (fault === "error") {
    return new Response("metrics exporter crashed (emulated fault)\n", { status: 500 });
  }
  if (fault === "garbage") {
    return new Response("<html><body>502 Bad Gateway {{{ not prometheus</body></html>\n", {
      headers: { "content-type": "text/plain; version=0.0.4" },
    });
  }
  return new Response(await s.metrics.text(), {
    headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
  });
}
