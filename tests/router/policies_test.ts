/**
 * Every policy of the table (src/core/policies.ts) routes live: the router starts with it,
 * serves streaming and non-streaming requests through the P/D handoff, reports it in its
 * status, and its accounting balances when the requests are done. The llm-d peer scores with
 * scraped engine metrics, which the router writes into the core on every scrape.
 */
import { equal, ok } from "node:assert/strict";
import { POLICY_NAMES } from "../../src/core/policies.ts";
import { complete, eventually, prompt, sseEvents, withFleet } from "../_live.ts";

for (const policy of POLICY_NAMES) {
  Deno.test(`live: the ${policy} policy serves requests through the P/D handoff`, async () => {
    await withFleet(
      [{ role: "prefill" }, { role: "decode" }, { role: "decode" }],
      { policy: { policy, disaggregation: "conditional" }, telemetry: { scrapeIntervalMs: 50 } },
      async ({ router }) => {
        equal(router.router.status().policy, policy);
        const outs = await Promise.all([
          complete(router.url, { model: "emulated", prompt: prompt(3000), max_tokens: 8 }),
          complete(router.url, {
            model: "emulated",
            prompt: prompt(200),
            max_tokens: 8,
            stream: true,
          }),
          complete(router.url, { model: "emulated", prompt: prompt(5000), max_tokens: 4 }),
        ]);
        for (const o of outs) equal(o.status, 200, o.text);
        equal(sseEvents(outs[1].text).at(-1), "[DONE]");
        ok(
          await eventually(() =>
            router.router.status().endpoints.every((e) => e.own.seqs === 0 && e.own.queued === 0)
          ),
          "accounting balanced",
        );
        // A scrape reached the core (the state the llm-d peer scores with).
        ok(await eventually(() => router.router.core.state.metricsAt[1] > 0), "scraped");
      },
    );
  });
}
