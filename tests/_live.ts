/**
 * Helpers for loopback tests of the live pieces: emulators and routers on free ports, closed
 * in `finally` so a failing test leaves nothing listening. Engines run fast (`SPEED`) so a
 * test takes well under a second of wall time per request.
 */
import { type Emulator, startEmulator } from "../src/emulator/emulator.ts";
import type { EmulatorOptionsInput } from "../src/emulator/options.ts";
import { resolveRouterConfig, type RouterConfigInput } from "../src/router/config.ts";
import { type RunningRouter, startRouter } from "../src/router/server.ts";

export const SPEED = 10;

export interface Fleet {
  readonly engines: Emulator[];
  readonly router: RunningRouter;
}

export async function startEngines(
  specs: readonly EmulatorOptionsInput[],
): Promise<Emulator[]> {
  const out: Emulator[] = [];
  try {
    for (const s of specs) out.push(await startEmulator({ port: 0, speed: SPEED, ...s }));
  } catch (e) {
    await Promise.all(out.map((x) => x.close()));
    throw e;
  }
  return out;
}

/** Engines, then a router over them (`roles[i]` for engine i), run `fn`, close everything. */
export async function withFleet(
  specs: readonly (EmulatorOptionsInput & { role: "prefill" | "decode" | "both" })[],
  router: RouterConfigInput,
  fn: (f: Fleet) => Promise<void>,
): Promise<void> {
  const engines = await startEngines(specs.map(({ role: _, ...s }) => s));
  let running: RunningRouter | null = null;
  try {
    running = await startRouter(resolveRouterConfig({
      port: 0,
      engineSpeed: SPEED,
      ...router,
      endpoints: engines.map((e, i) => ({
        url: e.url,
        role: specs[i].role,
        ...router.endpoints?.[i],
      })),
    }));
    await fn({ engines, router: running });
  } finally {
    await running?.close();
    await Promise.all(engines.map((e) => e.close()));
  }
}

/** POSTs a completion to `url`; returns status, headers and the raw body text. */
export async function complete(
  url: string,
  body: Record<string, unknown>,
  path = "/v1/completions",
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The JSON data of every SSE event in `text`. */
export function sseEvents(text: string): string[] {
  return text.split("\n\n").filter((b) => b.startsWith("data: ")).map((b) => b.slice(6));
}

/** A prompt of about `tokens` estimated tokens, unique unless `tag` repeats. */
export function prompt(tokens: number, tag: string = crypto.randomUUID()): string {
  return `${tag} `.repeat(Math.ceil(tokens * 4 / (tag.length + 1))).slice(0, tokens * 4);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true or `ms` pass. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 3000) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await check()) return true;
    await sleep(20);
  }
  return false;
}
