/**
 * Every emulator fault knob behind the router: no request is lost. Each one either completes
 * or ends with a clear error (an SSE error event then [DONE], or an OpenAI error body); a
 * failure before any output is retried on another engine; the failing engine is marked
 * unhealthy and avoided until its /health probe answers again.
 */
import { equal, match, ok } from "node:assert/strict";
import type { Fleet } from "../_live.ts";
import { complete, eventually, prompt, sseEvents, withFleet } from "../_live.ts";

interface Outcome {
  readonly status: number;
  readonly ok: boolean;
  readonly error: string | null;
  readonly decode: string | null;
}

/** Sends `n` requests (alternating stream / not), each with a 10 s client deadline. */
async function burst(f: Fleet, n: number, maxTokens = 6): Promise<Outcome[]> {
  return await Promise.all(Array.from({ length: n }, async (_, i) => {
    const stream = i % 2 === 0;
    const res = await fetch(`${f.router.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "emulated",
        prompt: prompt(300),
        max_tokens: maxTokens,
        stream,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    const decode = res.headers.get("x-pdroute-decode");
    if (res.status !== 200) {
      return { status: res.status, ok: false, error: JSON.parse(text).error.message, decode };
    }
    if (!stream) {
      return {
        status: 200,
        ok: JSON.parse(text).usage.completion_tokens === maxTokens,
        error: null,
        decode,
      };
    }
    const events = sseEvents(text);
    equal(events.at(-1), "[DONE]", "every stream the router ends, ends with [DONE]");
    const error = events.map((e) => e === "[DONE]" ? null : JSON.parse(e).error?.message)
      .find((m) => m) ?? null;
    return { status: 200, ok: error === null, error, decode };
  }));
}

const pair = [{ role: "both" as const }, { role: "both" as const }];
const base = { policy: { disaggregation: "never" }, health: { probeIntervalMs: 60_000 } };

Deno.test("fault errorRate: 500s are retried elsewhere; the engine is marked unhealthy", async () => {
  await withFleet(pair, base, async (f) => {
    f.engines[0].faults.errorRate = 1;
    const out = await burst(f, 12);
    ok(out.every((o) => o.ok), JSON.stringify(out.filter((o) => !o.ok)));
    const st = f.router.router.status();
    const bad = st.endpoints[0];
    if (f.engines[0].received.length > 0) {
      equal(bad.healthy, false);
      match(bad.reason, /HTTP 500/);
      match(await (await fetch(`${f.router.url}/metrics`)).text(), /pdroute_retries_total/);
    }
    ok(out.every((o) => o.decode === "1"), "everything was served by the healthy engine");
  });
});

Deno.test("fault errorRate: an unhealthy engine returns after its /health probe succeeds", async () => {
  await withFleet(pair, { ...base, health: { probeIntervalMs: 100 } }, async (f) => {
    f.engines[0].faults.errorRate = 1;
    f.engines[1].faults.errorRate = 1;
    const out = await burst(f, 2);
    ok(out.every((o) => !o.ok && o.status === 502), "both engines fail: a clear 502");
    match(
      out[0].error!,
      /no engine could serve the request \(\d attempt\(s\)\); last failure: http/,
    );
    f.engines[0].faults.errorRate = 0;
    f.engines[1].faults.errorRate = 0;
    ok(
      await eventually(() => f.router.router.status().endpoints.every((e) => e.healthy)),
      "both back after a probe",
    );
    ok((await burst(f, 4)).every((o) => o.ok));
  });
});

Deno.test("fault stallRate: no first byte within the timeout -> retried elsewhere", async () => {
  await withFleet(
    pair,
    { ...base, limits: { firstByteTimeoutMs: 300, requestTimeoutMs: 5000 } },
    async (f) => {
      f.engines[0].faults.stallRate = 1;
      const out = await burst(f, 6);
      ok(out.every((o) => o.ok), JSON.stringify(out));
      if (f.engines[0].received.length > 0) {
        match(f.router.router.status().endpoints[0].reason, /no answer within 300 ms/);
      }
    },
  );
});

Deno.test("fault truncateRate: cut before output is retried, cut after output is a clear error", async () => {
  await withFleet(pair, base, async (f) => {
    f.engines[0].faults.truncateRate = 1;
    const out = await burst(f, 12);
    for (const o of out) {
      ok(
        o.ok || /failed after output began|ended without \[DONE\]/.test(o.error ?? ""),
        JSON.stringify(o),
      );
    }
    equal(out.length, 12, "nothing lost");
    // Non-streaming answers are read whole before anything is sent: always retried.
    ok(out.filter((_, i) => i % 2 === 1).every((o) => o.ok));
  });
});

Deno.test("fault dieAfter: a crashed engine's streams end with an error, the rest go elsewhere", async () => {
  await withFleet(pair, base, async (f) => {
    f.engines[0].faults.dieAfter = 3;
    const out = await burst(f, 16, 40);
    equal(out.length, 16);
    for (const o of out) {
      ok(
        o.ok || /failed after output began|ended without \[DONE\]/.test(o.error ?? ""),
        JSON.stringify(o),
      );
    }
    if (f.engines[0].dead) {
      equal(f.router.router.status().endpoints[0].healthy, false);
      ok((await burst(f, 4)).every((o) => o.ok && o.decode === "1"));
    }
  });
});

Deno.test("fault extraLatency: a slow engine is observed slow and avoided", async () => {
  await withFleet(pair, base, async (f) => {
    f.engines[0].faults.extraLatencyMs = 300;
    // Sequential requests: each sees the previous ones' measured TTFT.
    const decodes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await complete(f.router.url, {
        model: "emulated",
        prompt: prompt(200),
        max_tokens: 2,
        stream: true,
      });
      equal(r.status, 200);
      decodes.push(r.headers.get("x-pdroute-decode")!);
    }
    const slow = decodes.filter((d) => d === "0").length;
    ok(slow <= 1, `the slow engine took ${slow} of 10`);
  });
});

Deno.test("a client that disconnects mid-stream releases the router's accounting", async () => {
  await withFleet(pair, base, async (f) => {
    const ctl = new AbortController();
    const res = await fetch(`${f.router.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "emulated",
        prompt: prompt(100),
        max_tokens: 5000,
        stream: true,
      }),
      signal: ctl.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    equal(f.router.router.inFlight, 1);
    ctl.abort();
    await reader.cancel().catch(() => {});
    ok(await eventually(() => f.router.router.inFlight === 0), "flight ended");
    const st = f.router.router.status();
    ok(st.endpoints.every((e) => e.own.seqs === 0 && e.own.kv === 0), JSON.stringify(st));
    ok(await eventually(() => f.engines.every((e) => e.inFlight === 0)), "engines aborted it too");
    match(await (await fetch(`${f.router.url}/metrics`)).text(), /outcome="cancelled"\} 1/);
  });
});
