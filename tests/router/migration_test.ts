/**
 * Live migration: a streaming, disaggregated request whose decode has not started can move to
 * another decode engine, planned by the core's planMigrations (budget, window, gap) from the
 * router's own accounting. Here one decode engine sits on its requests (extra latency); once
 * the other engine's requests finish, the planner sees one engine loaded and one idle and
 * moves work over, where it finishes.
 */
import { equal, match, ok } from "node:assert/strict";
import { parseExposition, SampleIndex } from "../../src/metrics/prom_text.ts";
import { prompt, sseEvents, withFleet } from "../_live.ts";

Deno.test("migration: decodes stuck on a slow engine move to an idle one before they start", async () => {
  await withFleet(
    // Real-time engines (speed 1): the default migration budget, window and gap apply as they
    // are (at 10x every step is 10x cheaper, and so is the benefit of a move). Engine 1 holds
    // every request 3 s before admitting it, far longer than engine 2 needs for its own share,
    // so the planner sees one engine loaded and one idle for seconds.
    [
      { role: "prefill", speed: 1 },
      { role: "decode", speed: 1, faults: { extraLatencyMs: 3000 } },
      { role: "decode", speed: 1 },
    ],
    { engineSpeed: 1, policy: { disaggregation: "always" }, migrationIntervalMs: 50 },
    async ({ engines, router }) => {
      const out = await Promise.all(Array.from({ length: 6 }, async () => {
        const res = await fetch(`${router.url}/v1/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: "emulated",
            prompt: prompt(4000),
            max_tokens: 64,
            stream: true,
          }),
          signal: AbortSignal.timeout(20_000),
        });
        const text = await res.text();
        return {
          decode: res.headers.get("x-pdroute-decode"),
          migrations: Number(res.headers.get("x-pdroute-migrations")),
          done: sseEvents(text).at(-1) === "[DONE]",
        };
      }));
      ok(out.every((o) => o.done), JSON.stringify(out));
      const moved = out.filter((o) => o.migrations > 0);
      ok(
        moved.length > 0,
        `some requests were placed on the slow engine and moved: ${JSON.stringify(out)}`,
      );
      ok(moved.every((o) => o.decode === "2"), "moved to the idle engine");
      // Moved before they started: the slow engine finished exactly the requests that stayed
      // (it never admits a request whose client, the router, went away), and the idle engine
      // decoded every request that ended there, each from the prefill's KV.
      const stayed = out.filter((o) => o.decode === "1").length;
      equal(await successes(engines[1].url), stayed, JSON.stringify(out));
      equal(await successes(engines[2].url), out.length - stayed, JSON.stringify(out));
      equal(
        engines[2].received.filter((r) => r.body.kv_transfer_params).length,
        out.length - stayed,
      );
      const metrics = await (await fetch(`${router.url}/metrics`)).text();
      match(metrics, /pdroute_migrations_total\{from="[^"]+",to="[^"]+"\} [1-9]/);
      ok(router.router.status().endpoints.every((e) => e.own.seqs === 0), "accounting balanced");
    },
  );
});

/** Requests an engine finished, from its vLLM `request_success_total` counter. */
async function successes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return new SampleIndex(parseExposition(text)).sum("vllm:request_success_total") ?? 0;
}

Deno.test("migration: round robin and a zero budget never move anything", async () => {
  for (const policy of [{ policy: "round-robin" }, { migration: { budget: 0 } }]) {
    await withFleet(
      [{ role: "prefill" }, { role: "decode", faults: { extraLatencyMs: 300 } }, {
        role: "decode",
      }],
      { policy: { disaggregation: "always", ...policy }, migrationIntervalMs: 20 },
      async ({ router }) => {
        const out = await Promise.all(Array.from({ length: 4 }, async () => {
          const res = await fetch(`${router.url}/v1/completions`, {
            method: "POST",
            body: JSON.stringify({
              model: "emulated",
              prompt: prompt(2000),
              max_tokens: 8,
              stream: true,
            }),
          });
          await res.text();
          return Number(res.headers.get("x-pdroute-migrations"));
        }));
        ok(out.every((m) => m === 0), JSON.stringify(policy));
      },
    );
  }
});
