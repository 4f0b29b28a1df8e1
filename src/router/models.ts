/**
 * The models the engines serve: fetched from each engine's `/v1/models` at start and when it
 * comes back, merged (first engine first) for the router's own `/v1/models` and
 * `/v1/models/{id}`; the largest `max_model_len` any engine reports bounds what the router
 * accepts (context_length.ts).
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

/** The model object some engine serves under `id`, or null. */
export function modelById(ctx: RouterContext, id: string): Record<string, unknown> | null {
  return modelList(ctx).data.find((m) => String(m.id) === id) ?? null;
}

/** Per model id, the largest positive `max_model_len` any engine reports for it. */
export function modelLens(endpoints: readonly Endpoint[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of endpoints) {
    for (const m of e.models) {
      const len = m.max_model_len;
      if (typeof len !== "number" || !Number.isFinite(len) || len <= 0) continue;
      const id = String(m.id);
      out.set(id, Math.max(out.get(id) ?? 0, len));
    }
  }
  return out;
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
      ctx.models.maxModelLen = modelLens(ctx.endpoints);
    }
  } catch {
    // Unknown models just mean the router cannot check names; the engine will.
  }
}
