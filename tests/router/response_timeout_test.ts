/**
 * Non-streaming requests to an engine that accepts and never answers (the emulator's
 * `--stall-rate 1`): the answer must arrive within the response timeout (default: the
 * first-byte timeout), else the attempt fails, the engine is marked unhealthy and, nothing
 * having reached the client, the request is retried elsewhere; with nowhere left, a 504.
 * The client deadlines here (20 s) are far beyond those timeouts and far below the request
 * timeout (10 min), so only the response timeout can end these requests in time.
 */
import { equal, match, ok } from "node:assert/strict";
import type { Fleet } from "../_live.ts";
import { prompt, withFleet } from "../_live.ts";

const pair = [{ role: "both" as const }, { role: "both" as const }];
const base = { policy: { disaggregation: "never" }, health: { probeIntervalMs: 60_000 } };

async function sixJson(f: Fleet) {
  return await Promise.all(Array.from({ length: 6 }, async () => {
    const res = await fetch(`${f.router.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "emulated", prompt: prompt(100), max_tokens: 4 }),
      signal: AbortSignal.timeout(20_000),
    });
    return {
      status: res.status,
      decode: res.headers.get("x-pdroute-decode"),
      text: await res.text(),
    };
  }));
}

for (
  const [name, limits, ms] of [
    ["--first-byte-timeout", { firstByteTimeoutMs: 400 }, 400],
    ["--response-timeout", { firstByteTimeoutMs: 60_000, responseTimeoutMs: 500 }, 500],
  ] as const
) {
  Deno.test(`non-streaming: a stalled engine times out (${name}), is marked unhealthy, the rest retried`, async () => {
    await withFleet(pair, { ...base, limits }, async (f) => {
      f.engines[0].faults.stallRate = 1;
      const out = await sixJson(f);
      ok(out.every((o) => o.status === 200 && o.decode === "1"), JSON.stringify(out));
      ok(f.engines[0].received.length > 0, "the stalled engine got requests");
      const bad = f.router.router.status().endpoints[0];
      equal(bad.healthy, false);
      match(bad.reason, new RegExp(`no answer within ${ms} ms`));
      const metrics = await (await fetch(`${f.router.url}/metrics`)).text();
      const timeouts = metrics.match(
        /pdroute_retries_total\{endpoint="[^"]+",reason="timeout"\} (\d+)/g,
      );
      ok(timeouts?.some((l) => !l.endsWith(" 0")), `timeouts counted: ${timeouts}`);
    });
  });
}

Deno.test("non-streaming: every engine stalls -> a clear 504, not a hang", async () => {
  await withFleet(pair, { ...base, limits: { firstByteTimeoutMs: 300 } }, async (f) => {
    for (const e of f.engines) e.faults.stallRate = 1;
    const out = await sixJson(f);
    for (const o of out) {
      // 504: its own call timed out; 502: another's timeout took the engine out under it;
      // 503: it arrived with both engines out.
      ok([502, 503, 504].includes(o.status), `${o.status} ${o.text}`);
      const message = JSON.parse(o.text).error.message;
      match(message, /no answer within 300 ms|every engine is unhealthy/);
    }
    ok(out.some((o) => o.status === 504), "the requests that ran timed out with 504");
    ok(f.router.router.status().endpoints.every((e) => !e.healthy));
  });
});
