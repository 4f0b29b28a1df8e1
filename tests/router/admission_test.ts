/**
 * What the router admits and how its queue serves waiters: a request no engine can hold is a
 * 400 at once (vLLM's shape, from the engines' max_model_len); one that cannot be placed now
 * never holds up requests behind it that can (no head-of-line blocking); with no healthy
 * engine requests are shed at once, waiting or not.
 *
 * Capacity is the router's belief (`spec.kvCapacityBlocks: 100`, 95 usable; 16-token blocks,
 * blocks = (prompt + min(max_tokens, 256)) / 16); scrapes are off so only a request leaving
 * wakes the queue. Long "occupier" streams run on a real-time engine until the test cancels
 * them.
 */
import { equal, match, ok } from "node:assert/strict";
import { complete, eventually, prompt, withFleet } from "../_live.ts";
import type { RunningRouter } from "../../src/router/server.ts";

const tiny = { spec: { kvCapacityBlocks: 100 } };
const realTime = [{ role: "both" as const, speed: 1 }];
const queued = {
  policy: { disaggregation: "never" },
  endpoints: [tiny] as never,
  telemetry: { scrapeIntervalMs: 0 },
  health: { probeIntervalMs: 60_000 },
  limits: { queueTimeoutMs: 8000 },
};

/** A long stream holding `promptTokens` + 256 tokens of KV until `stop()`. */
async function occupy(router: RunningRouter, promptTokens: number) {
  const ctl = new AbortController();
  const res = await fetch(`${router.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "emulated",
      prompt: prompt(promptTokens),
      max_tokens: 20_000,
      stream: true,
    }),
    signal: ctl.signal,
  });
  equal(res.status, 200);
  const reader = res.body!.getReader();
  await reader.read();
  return async () => {
    ctl.abort();
    await reader.cancel().catch(() => {});
  };
}

const small = (tokens: number) => ({ model: "emulated", prompt: prompt(tokens), max_tokens: 16 });

Deno.test("admission: a prompt beyond every engine's max_model_len is vLLM's 400 at once", async () => {
  await withFleet(
    [{ role: "both", maxModelLen: 1000 }, { role: "both", maxModelLen: 2000 }],
    { policy: { disaggregation: "never" } },
    async ({ engines, router }) => {
      // 1.8 MB of text, inside the 4 MB body limit: about 450k tokens.
      for (const text of ["x".repeat(1_800_000), "word ".repeat(4000)]) {
        const res = await complete(router.url, { model: "emulated", prompt: text });
        equal(res.status, 400);
        const e = JSON.parse(res.text).error;
        equal(e.type, "BadRequestError");
        equal(e.code, 400);
        match(e.message, /This model's maximum context length is 2000 tokens/);
      }
      // Token ids count exactly; max_tokens counts as vLLM counts it.
      const ids = await complete(router.url, {
        model: "emulated",
        prompt: Array.from({ length: 1990 }, (_, i) => i),
        max_tokens: 11,
      });
      equal(ids.status, 400);
      match(
        JSON.parse(ids.text).error.message,
        /at least 2001 tokens \(at least 1990 in the prompt/,
      );
      const chat = await complete(
        router.url,
        { model: "emulated", messages: [{ role: "user", content: "y".repeat(40_000) }] },
        "/v1/chat/completions",
      );
      equal(chat.status, 400);
      equal(engines[0].received.length + engines[1].received.length, 0, "the router answered");
      const fits = await complete(router.url, { model: "emulated", prompt: prompt(200) });
      equal(fits.status, 200);
      const metrics = await (await fetch(`${router.url}/metrics`)).text();
      match(metrics, /pdroute_bad_requests_total\{status="400"\} 4/);
      equal(router.router.queueDepth, 0);
    },
  );
});

Deno.test("admission: near the limit the engine decides (the router's count is a lower bound)", async () => {
  await withFleet([{ role: "both", maxModelLen: 1000 }], {}, async ({ engines, router }) => {
    // 1100 tokens at the emulator's 4 characters per token; at least 550 by the router's bound.
    const res = await complete(router.url, { model: "emulated", prompt: "z".repeat(4400) });
    equal(res.status, 400);
    match(JSON.parse(res.text).error.message, /maximum context length is 1000 tokens/);
    equal(engines[0].received.length, 1, "the engine refused it, the router relayed");
  });
});

Deno.test("admission: a newcomer that fits is placed while a bigger request waits", async () => {
  await withFleet(realTime, queued, async ({ router }) => {
    const stopA = await occupy(router, 800); // 66 blocks
    try {
      // 39 blocks: 66 + 39 > 95, so it waits.
      const big = complete(router.url, small(600));
      ok(await eventually(() => router.router.queueDepth === 1), "the big request waits");
      // 14 blocks: fits beside the occupier.
      const c = await complete(router.url, small(200));
      equal(c.status, 200);
      equal(c.headers.get("x-pdroute-queue-ms"), "0.000", "not queued behind the big one");
      equal(router.router.queueDepth, 1, "the big one is still waiting");
      await stopA();
      const b = await big;
      equal(b.status, 200, b.text);
      ok(Number(b.headers.get("x-pdroute-queue-ms")) > 0);
    } finally {
      await stopA();
    }
  });
});

Deno.test("admission: freed capacity goes to a waiter that fits even behind one that does not", async () => {
  await withFleet(realTime, queued, async ({ router }) => {
    const stop1 = await occupy(router, 400); // 41 blocks
    const stop2 = await occupy(router, 400); // 41 blocks
    try {
      const big = complete(router.url, small(1000)); // 64 blocks: never fits beside one occupier
      ok(await eventually(() => router.router.queueDepth === 1));
      const d = complete(router.url, small(200)); // 14 blocks: 82 + 14 > 95, waits behind
      ok(await eventually(() => router.router.queueDepth === 2));
      await stop2(); // 41 + 14 fits, 41 + 64 does not
      const dRes = await d;
      equal(dRes.status, 200, dRes.text);
      ok(Number(dRes.headers.get("x-pdroute-queue-ms")) > 0, "it waited, then went first");
      equal(router.router.queueDepth, 1, "the big one still waits");
      await stop1();
      equal((await big).status, 200);
      const metrics = await (await fetch(`${router.url}/metrics`)).text();
      match(metrics, /pdroute_sheds_total\{reason="queue_timeout"\} 0/);
    } finally {
      await stop1();
      await stop2();
    }
  });
});

Deno.test("admission: with every engine unhealthy, requests are shed at once with 503", async () => {
  await withFleet(
    [{ role: "both" }, { role: "both" }],
    {
      policy: { disaggregation: "never" },
      health: { probeIntervalMs: 60_000 },
      limits: { queueTimeoutMs: 30_000 },
    },
    async ({ engines, router }) => {
      for (const e of engines) e.faults.errorRate = 1;
      // The start-up probe may bring an engine back once: fail requests until both are out.
      for (let i = 0; i < 5 && router.router.status().endpoints.some((e) => e.healthy); i++) {
        const failed = await complete(router.url, small(100));
        equal(failed.status, 502, "the engines failed it");
        match(JSON.parse(failed.text).error.message, /no engine could serve the request/);
      }
      equal((await fetch(`${router.url}/health`)).status, 503);
      const next = await complete(router.url, small(100));
      equal(next.status, 503);
      equal(next.headers.get("retry-after"), "1");
      match(JSON.parse(next.text).error.message, /every engine is unhealthy/);
      const metrics = await (await fetch(`${router.url}/metrics`)).text();
      match(metrics, /pdroute_sheds_total\{reason="no_healthy_engine"\} 1/);
      match(metrics, /pdroute_sheds_total\{reason="queue_timeout"\} 0/);
    },
  );
});

Deno.test("admission: requests waiting for capacity are shed when the last engine goes", async () => {
  await withFleet(
    realTime,
    { ...queued, limits: { queueTimeoutMs: 30_000 } },
    async ({ engines, router }) => {
      const stopA = await occupy(router, 800);
      try {
        const waiting = complete(router.url, small(600));
        ok(await eventually(() => router.router.queueDepth === 1));
        engines[0].die(); // the occupier's stream breaks: the engine is marked unhealthy
        const res = await waiting;
        equal(res.status, 503);
        match(JSON.parse(res.text).error.message, /every engine is unhealthy/);
        const metrics = await (await fetch(`${router.url}/metrics`)).text();
        match(metrics, /pdroute_sheds_total\{reason="no_healthy_engine"\} 1/);
        match(metrics, /pdroute_sheds_total\{reason="queue_timeout"\} 0/);
      } finally {
        await stopA();
      }
    },
  );
});
