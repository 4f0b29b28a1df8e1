/**
 * The emulator speaks vLLM's surface (SSE with [DONE], usage, models, health, metrics under
 * vLLM's names, OpenAI errors), times tokens with the engine model, implements the
 * NixlConnector kv_transfer_params roles, and every fault knob does what it says.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { startEmulator } from "../../src/emulator/emulator.ts";
import { parseExposition, SampleIndex } from "../../src/metrics/prom_text.ts";
import { complete, eventually, prompt, SPEED, sseEvents, startEngines } from "../_live.ts";

Deno.test("emulator: completions stream with usage, chat JSON, models, health, metrics", async () => {
  const [e] = await startEngines([{}]);
  try {
    const s = await complete(e.url, {
      model: "emulated",
      prompt: prompt(300),
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true },
    });
    equal(s.status, 200);
    match(s.headers.get("content-type")!, /^text\/event-stream/);
    const events = sseEvents(s.text);
    equal(events.at(-1), "[DONE]");
    const chunks = events.slice(0, -1).map((d) => JSON.parse(d));
    equal(chunks.filter((c) => c.choices.length > 0).length, 4);
    equal(chunks[3].choices[0].finish_reason, "length");
    deepEqual(chunks.at(-1).usage, {
      prompt_tokens: 300,
      completion_tokens: 4,
      total_tokens: 304,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    const chat = await complete(
      e.url,
      { model: "emulated", messages: [{ role: "user", content: "hi" }], max_tokens: 3 },
      "/v1/chat/completions",
    );
    const body = JSON.parse(chat.text);
    equal(body.object, "chat.completion");
    equal(body.usage.completion_tokens, 3);
    equal(body.choices[0].message.role, "assistant");
    const models = await (await fetch(`${e.url}/v1/models`)).json();
    equal(models.data[0].id, "emulated");
    equal((await fetch(`${e.url}/health`)).status, 200);
    const idx = new SampleIndex(parseExposition(await (await fetch(`${e.url}/metrics`)).text()));
    for (
      const name of [
        "vllm:num_requests_running",
        "vllm:num_requests_waiting",
        "vllm:kv_cache_usage_perc",
        "vllm:prefix_cache_queries_total",
        "vllm:prefix_cache_hits_total",
        "vllm:time_to_first_token_seconds_count",
        "vllm:inter_token_latency_seconds_sum",
      ]
    ) ok(idx.has(name), `${name} is exported`);
    equal(idx.sum("vllm:time_to_first_token_seconds_count", { model_name: "emulated" }), 2);
    equal(idx.sum("vllm:generation_tokens_total"), 7);
  } finally {
    await e.close();
  }
});

Deno.test("emulator: OpenAI-style errors for unknown model, bad body, too long", async () => {
  const [e] = await startEngines([{ maxModelLen: 1000 }]);
  try {
    const unknown = await complete(e.url, { model: "nope", prompt: "x" });
    equal(unknown.status, 404);
    equal(JSON.parse(unknown.text).error.type, "not_found_error");
    const bad = await complete(e.url, { model: "emulated", prompt: 5 });
    equal(bad.status, 400);
    equal(JSON.parse(bad.text).error.param, "prompt");
    const long = await complete(e.url, { model: "emulated", prompt: prompt(990), max_tokens: 20 });
    equal(long.status, 400);
    match(JSON.parse(long.text).error.message, /maximum context length is 1000 tokens/);
  } finally {
    await e.close();
  }
});

Deno.test("emulator: TTFT follows the engine model's prefill time", async () => {
  const [e] = await startEngines([{}]);
  try {
    const tokens = 6000;
    const t0 = performance.now();
    const r = await complete(e.url, { model: "emulated", prompt: prompt(tokens), max_tokens: 1 });
    const wall = performance.now() - t0;
    equal(r.status, 200);
    const modelMs = e.setup.time.prefillMs(tokens) / SPEED;
    ok(wall >= modelMs, `answered in ${wall.toFixed(1)} ms, before the model's ${modelMs} ms`);
    ok(wall < modelMs + 15, `answered in ${wall.toFixed(1)} ms vs the model's ${modelMs} ms`);
  } finally {
    await e.close();
  }
});

Deno.test("emulator: a shared prefix hits the prefix cache", async () => {
  const [e] = await startEngines([{}]);
  try {
    const shared = prompt(1024, "system-prompt");
    await complete(e.url, { model: "emulated", prompt: shared + prompt(100), max_tokens: 1 });
    const second = await complete(e.url, {
      model: "emulated",
      prompt: shared + prompt(100),
      max_tokens: 1,
    });
    equal(JSON.parse(second.text).usage.prompt_tokens_details.cached_tokens, 1024);
  } finally {
    await e.close();
  }
});

Deno.test("emulator: prefill/decode handoff with kv_transfer_params; a second pull recomputes", async () => {
  const [p, d] = await startEngines([{}, {}]);
  try {
    const text = prompt(700);
    const pre = await complete(p.url, {
      model: "emulated",
      prompt: text,
      max_tokens: 1,
      stream: false,
      kv_transfer_params: {
        do_remote_decode: true,
        do_remote_prefill: false,
        remote_engine_id: null,
        remote_block_ids: null,
        remote_host: null,
        remote_port: null,
      },
    });
    const params = JSON.parse(pre.text).kv_transfer_params;
    equal(params.do_remote_prefill, true);
    equal(params.remote_engine_id, p.engineId);
    equal(params.remote_block_ids.length, Math.ceil(700 / 16));
    equal(params.remote_port, p.port);
    ok(p.engine.kvTokens >= 700, "the prefill engine holds the KV until it is pulled");
    const dec = await complete(d.url, {
      model: "emulated",
      prompt: text,
      max_tokens: 5,
      kv_transfer_params: params,
    });
    equal(JSON.parse(dec.text).usage.completion_tokens, 5);
    equal(p.engine.kvTokens, 0, "pulled KV is freed on the prefill engine");
    // The same params again: the KV is gone, so the decode engine recomputes (and counts it).
    const again = await complete(d.url, {
      model: "emulated",
      prompt: text,
      max_tokens: 2,
      kv_transfer_params: params,
    });
    equal(again.status, 200);
    const idx = new SampleIndex(parseExposition(await d.metrics.text()));
    equal(idx.sum("emulator:kv_pull_failures_total"), 1);
    const streamed = await complete(p.url, {
      model: "emulated",
      prompt: text,
      stream: true,
      kv_transfer_params: { do_remote_decode: true },
    });
    equal(streamed.status, 400, "a prefill request must not stream");
    const broken = await complete(d.url, {
      model: "emulated",
      prompt: text,
      kv_transfer_params: { do_remote_prefill: true, remote_engine_id: "x" },
    });
    equal(broken.status, 400);
    match(JSON.parse(broken.text).error.message, /remote_block_ids/);
  } finally {
    await p.close();
    await d.close();
  }
});

Deno.test("emulator faults: error rate, extra latency, truncation, broken metrics", async () => {
  const [e] = await startEngines([{}]);
  try {
    e.faults.errorRate = 1;
    const err = await complete(e.url, { model: "emulated", prompt: "x", max_tokens: 2 });
    equal(err.status, 500);
    equal(JSON.parse(err.text).error.type, "server_error");
    e.faults.errorRate = 0;
    e.faults.extraLatencyMs = 150;
    const t0 = performance.now();
    await complete(e.url, { model: "emulated", prompt: "x", max_tokens: 1 });
    ok(performance.now() - t0 >= 150);
    e.faults.extraLatencyMs = 0;
    e.faults.truncateRate = 1;
    const cut = await fetch(`${e.url}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "emulated", prompt: "x", max_tokens: 6, stream: true }),
    });
    let text = "";
    let broke = false;
    try {
      for await (const chunk of cut.body!) text += new TextDecoder().decode(chunk);
    } catch {
      broke = true;
    }
    ok(broke, "the stream breaks");
    equal(sseEvents(text).length, 3, "half the tokens, no [DONE]");
    const cutJson = await fetch(`${e.url}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "emulated", prompt: "x", max_tokens: 2 }),
    });
    let jsonBroke = false;
    try {
      await cutJson.json();
    } catch {
      jsonBroke = true;
    }
    ok(jsonBroke, "a truncated JSON answer does not parse");
    e.faults.truncateRate = 0;
    e.faults.brokenMetrics = "error";
    const m1 = await fetch(`${e.url}/metrics`);
    await m1.body?.cancel();
    equal(m1.status, 500);
    e.faults.brokenMetrics = "garbage";
    const m2 = await fetch(`${e.url}/metrics`);
    equal(m2.status, 200);
    let threw = false;
    try {
      parseExposition(await m2.text());
    } catch {
      threw = true;
    }
    ok(threw, "garbage metrics are not Prometheus text");
  } finally {
    await e.close();
  }
});

Deno.test("emulator faults: a stalled request waits until the client gives up", async () => {
  const [e] = await startEngines([{ faults: { stallRate: 1 } }]);
  try {
    let aborted = false;
    try {
      await fetch(`${e.url}/v1/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "emulated", prompt: "x", max_tokens: 1 }),
        signal: AbortSignal.timeout(200),
      });
    } catch {
      aborted = true;
    }
    ok(aborted, "no answer within 200 ms");
  } finally {
    await e.close();
  }
});

Deno.test("emulator faults: die after N requests cuts streams and closes the port", async () => {
  const [e] = await startEngines([{ faults: { dieAfter: 2 } }]);
  const url = e.url;
  try {
    equal((await complete(url, { model: "emulated", prompt: "x", max_tokens: 1 })).status, 200);
    const long = await fetch(`${url}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "emulated", prompt: "x", max_tokens: 2000, stream: true }),
    });
    const reader = long.body!.getReader();
    await reader.read(); // the stream is running
    // Request 3 kills the engine.
    await complete(url, { model: "emulated", prompt: "x", max_tokens: 1 }).catch(() => null);
    let cut = false;
    try {
      while (!(await reader.read()).done);
    } catch {
      cut = true;
    }
    ok(cut, "the running stream is cut");
    ok(e.dead);
    ok(
      await eventually(async () => {
        try {
          await (await fetch(`${url}/health`)).body?.cancel();
          return false;
        } catch {
          return true;
        }
      }),
      "the port is closed",
    );
  } finally {
    await e.close();
  }
});

Deno.test("emulator: a client that goes away frees its sequence", async () => {
  const [e] = await startEngines([{}]);
  try {
    const ctl = new AbortController();
    const res = await fetch(`${e.url}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "emulated", prompt: "x", max_tokens: 5000, stream: true }),
      signal: ctl.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    equal(e.inFlight, 1);
    ctl.abort();
    await reader.cancel().catch(() => {});
    ok(await eventually(() => e.inFlight === 0 && e.engine.running.size === 0), "freed");
  } finally {
    await e.close();
  }
});

Deno.test("emulator options are validated with the field and value", async () => {
  let message = "";
  try {
    await startEmulator({ port: 0, speed: -1 });
  } catch (e) {
    message = (e as Error).message;
  }
  match(message, /'speed'.*current value is -1/);
});
