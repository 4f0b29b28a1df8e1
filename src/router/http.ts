/**
 * HTTP dispatch: the completion routes (POST) go to intake; `/health`, `/v1/models`,
 * `/v1/models/{id}`, `/metrics` and `/router/status` (GET) are answered here. A known path
 * with another method is 405 with `Allow`; anything else is 404.
 */
import { errorResponse } from "../openai/errors.ts";
import type { Api } from "../openai/request.ts";
import type { RouterContext } from "./context.ts";
import { badRequest, complete } from "./intake.ts";
import { modelById, modelList } from "./models.ts";
import { routerStatus } from "./status.ts";

const COMPLETION_ROUTES: Readonly<Record<string, Api>> = {
  "/v1/completions": "completions",
  "/v1/chat/completions": "chat",
};

const MODEL_PREFIX = "/v1/models/";

export async function dispatch(
  ctx: RouterContext,
  req: Request,
  completed: Promise<void> | null,
): Promise<Response> {
  const path = new URL(req.url).pathname;
  const api = COMPLETION_ROUTES[path];
  if (api !== undefined) {
    if (req.method !== "POST") return notAllowed(ctx, req, path, "POST");
    return await complete(ctx, req, path, api, completed);
  }
  const get = getRoute(ctx, path);
  if (get === null) {
    ctx.metrics.badRequests.inc({ status: "404" });
    return errorResponse(404, `no route for ${req.method} ${path}`, "not_found_error");
  }
  if (req.method !== "GET") return notAllowed(ctx, req, path, "GET");
  return await get();
}

/** The handler of a GET route, or null when `path` is none. */
function getRoute(ctx: RouterContext, path: string): (() => Response | Promise<Response>) | null {
  switch (path) {
    case "/health":
      return () => new Response(null, { status: ctx.endpoints.some((e) => e.healthy) ? 200 : 503 });
    case "/v1/models":
      return () => Response.json(modelList(ctx));
    case "/metrics":
      return async () =>
        new Response(await ctx.metrics.text(), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        });
    case "/router/status":
      return () => Response.json(routerStatus(ctx));
  }
  if (path.startsWith(MODEL_PREFIX) && path.length > MODEL_PREFIX.length) {
    return () => modelResponse(ctx, path.slice(MODEL_PREFIX.length));
  }
  return null;
}

/** `GET /v1/models/{id}` (ids may hold slashes: `meta-llama/Llama-3.1-8B-Instruct`). */
function modelResponse(ctx: RouterContext, raw: string): Response {
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    id = raw;
  }
  const model = modelById(ctx, id);
  if (model) return Response.json(model);
  return badRequest(ctx, 404, `The model \`${id}\` does not exist`, "model");
}

function notAllowed(ctx: RouterContext, req: Request, path: string, allow: string): Response {
  ctx.metrics.badRequests.inc({ status: "405" });
  return errorResponse(
    405,
    `method ${req.method} is not allowed on ${path}; allowed: ${allow}`,
    "invalid_request_error",
    { headers: { allow } },
  );
}
