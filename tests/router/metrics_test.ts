/**
 * The router's /metrics: every known label set of the labelled counters and histograms is
 * exported at zero from the start; a non-streaming request the client cancels is counted on
 * the engine serving it (not `endpoint="none"`) and is not a retry; and
 * `pdroute_endpoint_in_flight` counts what each endpoint holds.
 */
import { equal, match, ok } from "node:assert/strict";
import { eventually, withFleet } from "../_live.ts";

async function scrape(url: string): Promise<string> {
  return await (await fetch(`${url}/metrics`)).text();
}

/** The value of the sample `name{labels}` (labels exactly as exported), or NaN. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

Deno.test("metrics: known label sets are exported at zero before anything happened", async () => {
  await withFleet(
    [{ role: "prefill" }, { role: "decode" }, { role: "decode" }],
    { policy: { disaggregation: "always" } },
    async ({ engines, router }) => {
      const text = await scrape(router.url);
      const [p, d1, d2] = engines.map((e) => e.url);
      for (const url of [p, d1, d2]) {
        for (const outcome of ["ok", "client_error", "upstream_error", "failed", "cancelled"]) {
          equal(sample(text, `pdroute_requests_total{endpoint="${url}",outcome="${outcome}"}`), 0);
        }
        equal(sample(text, `pdroute_retries_total{endpoint="${url}",reason="timeout"}`), 0);
        equal(sample(text, `pdroute_retries_total{endpoint="${url}",reason="error"}`), 0);
        equal(sample(text, `pdroute_scrape_errors_total{endpoint="${url}"}`), 0);
        equal(sample(text, `pdroute_endpoint_in_flight{endpoint="${url}"}`), 0);
      }
      equal(sample(text, `pdroute_requests_total{endpoint="none",outcome="shed"}`), 0);
      equal(sample(text, `pdroute_requests_total{endpoint="none",outcome="cancelled"}`), 0);
      for (const path of ["disaggregated", "local", "no_capacity"]) {
        equal(sample(text, `pdroute_decisions_total{policy="predictive",path="${path}"}`), 0);
      }
      for (const reason of ["queue_full", "queue_timeout", "no_healthy_engine"]) {
        equal(sample(text, `pdroute_sheds_total{reason="${reason}"}`), 0);
      }
      for (const status of ["400", "404", "405", "408", "413", "415"]) {
        equal(sample(text, `pdroute_bad_requests_total{status="${status}"}`), 0);
      }
      equal(sample(text, `pdroute_ttft_seconds_count{endpoint="${p}"}`), 0);
      equal(sample(text, `pdroute_tpot_seconds_count{endpoint="${d1}"}`), 0);
      equal(sample(text, `pdroute_migrations_total{from="${d1}",to="${d2}"}`), 0);
      equal(sample(text, `pdroute_migrations_total{from="${d2}",to="${d1}"}`), 0);
      ok(Number.isNaN(sample(text, `pdroute_migrations_total{from="${d1}",to="${d1}"}`)));
    },
  );
});

Deno.test("metrics: a cancelled non-streaming request is counted on its engine; in-flight gauge", async () => {
  await withFleet([{ role: "both" }], {}, async ({ engines, router }) => {
    const url = engines[0].url;
    const client = new AbortController();
    // A small request on purpose: Deno's HTTP server notices a client hanging up during a
    // pending response only when the whole request came in one small read (docs/ROUTER.md).
    const pending = fetch(`${router.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "emulated", prompt: "hi", max_tokens: 20_000 }),
      signal: client.signal,
    }).catch(() => null);
    ok(await eventually(() => engines[0].inFlight === 1), "the engine is serving it");
    const during = await scrape(router.url);
    equal(sample(during, `pdroute_endpoint_in_flight{endpoint="${url}"}`), 1);
    equal(sample(during, "pdroute_in_flight"), 1);
    client.abort();
    await pending;
    ok(await eventually(() => router.router.inFlight === 0), "the router let it go");
    const after = await scrape(router.url);
    equal(sample(after, `pdroute_requests_total{endpoint="${url}",outcome="cancelled"}`), 1);
    equal(sample(after, `pdroute_requests_total{endpoint="none",outcome="cancelled"}`), 0);
    equal(sample(after, `pdroute_retries_total{endpoint="${url}",reason="error"}`), 0);
    equal(sample(after, `pdroute_endpoint_in_flight{endpoint="${url}"}`), 0);
    match(after, /pdroute_endpoint_healthy\{endpoint="[^"]+"\} 1/, "a cancel is not a failure");
  });
});

Deno.test("metrics: predicted cached prompt tokens against the engine's reported cached_tokens", async () => {
  await withFleet([{ role: "both" }], {}, async ({ engines, router }) => {
    const url = engines[0].url;
    const zero = await scrape(router.url);
    equal(
      sample(zero, `pdroute_prefix_cached_tokens_total{endpoint="${url}",source="reported"}`),
      0,
    );
    equal(sample(zero, `pdroute_prefix_prediction_error_tokens_count{endpoint="${url}"}`), 0);
    // One long prompt twice, one at a time: the second finds the first's blocks on the engine.
    const prompt = Array.from({ length: 900 }, (_, i) => `word${i % 97}`).join(" ");
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${router.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "emulated", prompt, max_tokens: 2 }),
      });
      equal(res.status, 200);
      await res.body?.cancel();
    }
    const text = await scrape(router.url);
    equal(sample(text, `pdroute_prefix_prediction_error_tokens_count{endpoint="${url}"}`), 2);
    const reported = sample(
      text,
      `pdroute_prefix_cached_tokens_total{endpoint="${url}",source="reported"}`,
    );
    const predicted = sample(
      text,
      `pdroute_prefix_cached_tokens_total{endpoint="${url}",source="predicted"}`,
    );
    ok(reported > 0, `the engine reported cached tokens on the repeat: ${reported}`);
    ok(predicted > 0, `the router predicted cached tokens on the repeat: ${predicted}`);
  });
});
