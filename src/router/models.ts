/**
 * The models the engines serve: fetched from each engine's `/v1/models` at start and when it
 * comes back, merged (first engine first) for the router's own `/v1/models`.
 */
import type { RouterContext } from "./context.ts";
import type { Endpoint } from "./endpoint.ts";

/** The router's `/v1/models` answer: every model some engine serves, once. */
export function modelList(ctx: RouterContext) {
  const seen = new Map<string, Record<string, unknown>>();
  for (const e of ctx.endpoints) {
    for (const m of e.models) if (!seen.has(String(m.id))) seen.set(String(m.id), m);
  }
  return { object: "list", data: [...seen.values()] };
}

export async function fetchModels(ctx: RouterContext, e: Endpoint): Promise<void> {
  try {
    const res = await fetch(`${e.url}/v1/models`, {
      signal: AbortSignal.any([ctx.stop, AbortSignal.timeout(2000)]),
    });
    const body = await res.json() as { data?: unknown };
    if (res.ok && Array.isArray(body.data)) {
      e.models = body.data as Record<string, unknown>[];
      ctx.models.ids = new Set(modelList(ctx).data.map((m) => String(m.id)));
    }
  } catch {
    // Unknown models just mean the router cannot check names; the engine will.
  }
}
