/**
 * The router end to end over loopback emulators: the P/D handoff exactly as vLLM's
 * NixlConnector proxy does it (checked on what the engines received), the official `openai`
 * client streaming and not through it, local (shared-pool) routing, relayed engine errors and
 * the router's own refusals.
 */
import { deepEqual, equal, match, notEqual, ok } from "node:assert/strict";
import OpenAI from "openai";
import { PREFILL_KV_TRANSFER_PARAMS } from "../../src/router/handoff.ts";
import { complete, prompt, sseEvents, withFleet } from "../_live.ts";

Deno.test("router: disaggregated handoff sends vLLM's prefill request and hands kv_transfer_params to decode", async () => {
  await withFleet(
    [{ role: "prefill" }, { role: "decode" }],
    { policy: { disaggregation: "always" } },
    async ({ engines: [p, d], router }) => {
      const text = prompt(900);
      const body = {
        model: "emulated",
        prompt: text,
        max_tokens: 7,
        min_tokens: 7,
        stream: true,
        stream_options: { include_usage: true },
        temperature: 0,
      };
      const res = await complete(router.url, body, "/v1/completions", { "x-request-id": "req-42" });
      equal(res.status, 200);
      const events = sseEvents(res.text);
      equal(events.at(-1), "[DONE]");
      equal(JSON.parse(events.at(-2)!).usage.completion_tokens, 7);
      equal(res.headers.get("x-pdroute-prefill"), "0");
      equal(res.headers.get("x-pdroute-decode"), "1");
      // What the prefill engine got: the proxy's copy, nothing more, nothing less.
      equal(p.received.length, 1);
      deepEqual(p.received[0].body, {
        model: "emulated",
        prompt: text,
        max_tokens: 1,
        stream: false,
        temperature: 0,
        kv_transfer_params: { ...PREFILL_KV_TRANSFER_PARAMS },
      });
      equal(p.received[0].requestId, "req-42");
      // What the decode engine got: the original request plus the prefill's kv_transfer_params.
      equal(d.received.length, 1);
      const { kv_transfer_params: params, ...rest } = d.received[0].body;
      deepEqual(rest, body);
      const kv = params as Record<string, unknown>;
      equal(kv.do_remote_prefill, true);
      equal(kv.remote_engine_id, p.engineId);
      equal(kv.remote_port, p.port);
      equal((kv.remote_block_ids as number[]).length, Math.ceil(900 / 16));
      equal(d.received[0].requestId, "req-42");
      equal(p.engine.kvTokens, 0, "decode pulled the KV, the prefill engine freed it");
    },
  );
});

Deno.test("router: the official openai client streams and not, completions and chat", async () => {
  await withFleet(
    [{ role: "prefill" }, { role: "decode" }, { role: "decode" }],
    { policy: { disaggregation: "always" } },
    async ({ router }) => {
      const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const models = await client.models.list();
      equal(models.data[0].id, "emulated");
      const plain = await client.completions.create({
        model: "emulated",
        prompt: prompt(200),
        max_tokens: 5,
      });
      equal(plain.usage?.completion_tokens, 5);
      equal(plain.choices[0].finish_reason, "length");
      const stream = await client.chat.completions.create({
        model: "emulated",
        messages: [{ role: "user", content: prompt(600) }],
        max_tokens: 6,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = "";
      let usage = 0;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? "";
        if (chunk.usage) usage = chunk.usage.completion_tokens;
      }
      equal(usage, 6);
      equal(text.length, 6 * 4);
      const chat = await client.chat.completions.create({
        model: "emulated",
        messages: [{ role: "user", content: "hello" }],
        max_tokens: 2,
      });
      equal(chat.choices[0].message.content, " the and");
      let status = 0;
      try {
        await client.completions.create({ model: "missing", prompt: "x" });
      } catch (e) {
        status = (e as { status: number }).status;
      }
      equal(status, 404);
    },
  );
});

Deno.test("router: shared pool (never disaggregate) spreads over engines and prefers cached prefixes", async () => {
  await withFleet(
    [{ role: "both" }, { role: "both" }],
    { policy: { disaggregation: "never", policy: "predictive" } },
    async ({ engines, router }) => {
      const shared = prompt(2048, "shared-system-prompt");
      const first = await complete(router.url, {
        model: "emulated",
        prompt: shared + prompt(64),
        max_tokens: 2,
      });
      const home = first.headers.get("x-pdroute-decode");
      equal(first.headers.get("x-pdroute-prefill"), home, "local: prefill and decode together");
      // Same prefix again: the router's prefix index sends it where the prefix is cached.
      const again = await complete(router.url, {
        model: "emulated",
        prompt: shared + prompt(64),
        max_tokens: 2,
      });
      equal(again.headers.get("x-pdroute-decode"), home);
      equal(JSON.parse(again.text).usage.prompt_tokens_details.cached_tokens, 2048);
      // A burst of unrelated prompts uses both engines (dispatch accounting spreads it).
      const burst = await Promise.all(
        Array.from(
          { length: 8 },
          () => complete(router.url, { model: "emulated", prompt: prompt(3000), max_tokens: 20 }),
        ),
      );
      const used = new Set(burst.map((r) => r.headers.get("x-pdroute-decode")));
      equal(used.size, 2);
      ok(engines.every((e) => e.received.every((r) => r.body.kv_transfer_params === undefined)));
    },
  );
});

Deno.test("router: engine 4xx are relayed; the router's own 400/404/413 are OpenAI errors", async () => {
  await withFleet(
    [{ role: "both", maxModelLen: 500 }],
    { limits: { maxBodyBytes: 2048 } },
    async ({ router }) => {
      const tooLong = await complete(router.url, {
        model: "emulated",
        prompt: prompt(450),
        max_tokens: 100,
      });
      equal(tooLong.status, 400);
      match(JSON.parse(tooLong.text).error.message, /maximum context length/);
      const big = await complete(router.url, { model: "emulated", prompt: "x".repeat(5000) });
      equal(big.status, 413);
      match(JSON.parse(big.text).error.message, /limit is 2048/);
      const bad = await complete(
        router.url,
        { model: "emulated", messages: "hi" },
        "/v1/chat/completions",
      );
      equal(bad.status, 400);
      equal(JSON.parse(bad.text).error.param, "messages");
      const notJson = await fetch(`${router.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{",
      });
      equal(notJson.status, 400);
      await notJson.body?.cancel();
      const nowhere = await fetch(`${router.url}/v2/whatever`);
      equal(nowhere.status, 404);
      await nowhere.body?.cancel();
      const metrics = await (await fetch(`${router.url}/metrics`)).text();
      match(metrics, /pdroute_bad_requests_total\{status="413"\} 1/);
      match(metrics, /pdroute_requests_total\{endpoint="[^"]+",outcome="client_error"\} 1/);
      notEqual((await fetch(`${router.url}/health`)).status, 503);
    },
  );
});

Deno.test("router: /metrics reports decisions, TTFT/TPOT, decision latency and endpoint load", async () => {
  await withFleet(
    [{ role: "prefill" }, { role: "decode" }],
    { policy: { disaggregation: "always" } },
    async ({ router }) => {
      for (let i = 0; i < 3; i++) {
        await complete(router.url, {
          model: "emulated",
          prompt: prompt(700),
          max_tokens: 4,
          stream: true,
        });
      }
      const text = await (await fetch(`${router.url}/metrics`)).text();
      match(text, /pdroute_decisions_total\{policy="predictive",path="disaggregated"\} 3/);
      match(text, /pdroute_requests_total\{endpoint="[^"]+",outcome="ok"\} 3/);
      match(text, /pdroute_ttft_seconds_count\{endpoint="[^"]+"\} 3/);
      match(text, /pdroute_tpot_seconds_count\{endpoint="[^"]+"\} 3/);
      match(text, /pdroute_decision_seconds_count 3/);
      match(text, /pdroute_endpoint_load\{endpoint="[^"]+",kind="active_seqs"\} 0/);
      match(text, /pdroute_endpoint_healthy\{endpoint="[^"]+"\} 1/);
    },
  );
});

Deno.test("router relay passthrough: engine bodies piped as they are; failures before headers retried", async () => {
  await withFleet(
    [{ role: "prefill" }, { role: "decode" }, { role: "decode" }],
    { relay: "passthrough", policy: { disaggregation: "always" } },
    async ({ engines, router }) => {
      engines[1].faults.errorRate = 1;
      const out = await Promise.all(Array.from({ length: 6 }, () =>
        complete(router.url, {
          model: "emulated",
          prompt: prompt(600),
          max_tokens: 5,
          stream: true,
          stream_options: { include_usage: true },
        })));
      for (const r of out) {
        equal(r.status, 200);
        equal(sseEvents(r.text).at(-1), "[DONE]");
        equal(r.headers.get("x-pdroute-decode"), "2");
      }
      const st = router.router.status();
      ok(st.endpoints.every((e) => e.own.seqs === 0 && e.own.queued === 0), JSON.stringify(st));
      equal(st.inFlight, 0);
    },
  );
});
