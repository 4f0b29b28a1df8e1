/**
 * Capacity and telemetry: when every eligible engine is saturated the router sheds with 503 +
 * Retry-After (or queues for a bounded time, FIFO); scraped load from other clients is added
 * to the router's own accounting while fresh and dropped once stale.
 */
import { equal, match, ok } from "node:assert/strict";
import { complete, eventually, prompt, sleep, withFleet } from "../_live.ts";

// 100 KV blocks per engine: with the 0.95 usage limit, two requests of 32 blocks fit, not three.
const tiny = { spec: { kvCapacityBlocks: 100 } };
const request = () => ({ model: "emulated", prompt: prompt(300), max_tokens: 200 });

Deno.test("shedding: saturated engines answer 503 with Retry-After, immediately when no queue", async () => {
  await withFleet(
    [{ role: "both" }, { role: "both" }],
    {
      policy: { disaggregation: "never" },
      endpoints: [tiny, tiny] as never,
      limits: { queueTimeoutMs: 0, retryAfterSeconds: 2 },
    },
    async ({ router }) => {
      const out = await Promise.all(
        Array.from({ length: 10 }, () => complete(router.url, request())),
      );
      const served = out.filter((r) => r.status === 200).length;
      const shed = out.filter((r) => r.status === 503);
      equal(served, 4, "two per engine fit");
      equal(shed.length, 6);
      for (const r of shed) {
        equal(r.headers.get("retry-after"), "2");
        const e = JSON.parse(r.text).error;
        equal(e.type, "overloaded_error");
        match(e.message, /every eligible engine is at capacity/);
      }
      const metrics = await (await fetch(`${router.url}/metrics`)).text();
      match(metrics, /pdroute_sheds_total\{reason="queue_timeout"\} 6/);
      match(metrics, /pdroute_decisions_total\{policy="predictive",path="no_capacity"\} \d+/);
      // Capacity came back: nothing leaked in the accounting.
      ok(router.router.status().endpoints.every((e) => e.own.seqs === 0 && e.own.kv === 0));
    },
  );
});

Deno.test("shedding: with a queue, requests wait for capacity in order and all complete", async () => {
  await withFleet(
    [{ role: "both" }, { role: "both" }],
    {
      policy: { disaggregation: "never" },
      endpoints: [tiny, tiny] as never,
      limits: { queueTimeoutMs: 5000, maxQueued: 100 },
    },
    async ({ router }) => {
      const out = await Promise.all(
        Array.from({ length: 10 }, () => complete(router.url, request())),
      );
      equal(out.filter((r) => r.status === 200).length, 10);
      const queued = out.map((r) => Number(r.headers.get("x-pdroute-queue-ms")));
      ok(queued.filter((q) => q > 0).length >= 6, `queue waits ${queued}`);
    },
  );
});

Deno.test("shedding: a full router queue refuses at once", async () => {
  await withFleet(
    [{ role: "both" }],
    {
      policy: { disaggregation: "never" },
      endpoints: [tiny] as never,
      limits: { queueTimeoutMs: 5000, maxQueued: 1 },
    },
    async ({ router }) => {
      const out = await Promise.all(
        Array.from({ length: 5 }, () => complete(router.url, request())),
      );
      // Two run, one waits, two are refused at once (queue full).
      equal(out.filter((r) => r.status === 200).length, 3);
      const shed = out.filter((r) => r.status === 503);
      equal(shed.length, 2);
      match(JSON.parse(shed[0].text).error.message, /router queue full/);
    },
  );
});

Deno.test("telemetry: scraped load from other clients counts while fresh, is dropped when stale", async () => {
  await withFleet(
    [{ role: "both" }, { role: "both" }],
    {
      policy: { disaggregation: "never" },
      telemetry: { scrapeIntervalMs: 50, staleAfterMs: 300 },
    },
    async ({ engines, router }) => {
      // Load engine 0 behind the router's back: long streams the router never sees.
      const ctl = new AbortController();
      const side = Array.from({ length: 4 }, () =>
        fetch(`${engines[0].url}/v1/completions`, {
          method: "POST",
          body: JSON.stringify({
            model: "emulated",
            prompt: prompt(4000),
            max_tokens: 20000,
            stream: true,
          }),
          signal: ctl.signal,
        }).then(async (r) => {
          for await (const _ of r.body!) { /* keep the stream running */ }
        }).catch(() => {}));
      try {
        const ext = () => router.router.status().endpoints[0].external;
        ok(await eventually(() => ext().seqs === 4 && ext().kv > 0), JSON.stringify(ext()));
        // The policy sees it: new work goes to the idle engine.
        for (let i = 0; i < 4; i++) {
          const r = await complete(router.url, {
            model: "emulated",
            prompt: prompt(500),
            max_tokens: 2,
          });
          equal(r.headers.get("x-pdroute-decode"), "1");
        }
        // The metrics break: the last scrape ages past staleAfterMs and is no longer trusted.
        engines[0].faults.brokenMetrics = "garbage";
        ok(await eventually(() => ext().seqs === 0 && ext().kv === 0), "stale load dropped");
        const st = router.router.status().endpoints[0];
        match(st.scrapeError, /not Prometheus text/);
        ok(st.telemetryAgeMs! > 300);
        match(await (await fetch(`${router.url}/metrics`)).text(), /pdroute_scrape_errors_total/);
        engines[0].faults.brokenMetrics = "error";
        await sleep(120);
        match(router.router.status().endpoints[0].scrapeError, /HTTP 500/);
      } finally {
        ctl.abort();
        await Promise.all(side);
      }
    },
  );
});
