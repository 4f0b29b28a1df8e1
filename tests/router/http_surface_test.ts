/**
 * The router's HTTP surface for what is not a well-formed completion: bodies that are not JSON
 * (415), methods a route does not take (405 + Allow), a body that never finishes arriving
 * (408 within --body-timeout), and `GET /v1/models/{id}` (the model object, or a 404 in
 * OpenAI's error shape).
 */
import { equal, match, ok } from "node:assert/strict";
import OpenAI from "openai";
import { withFleet } from "../_live.ts";

const one = [{ role: "both" as const }];
const body = JSON.stringify({ model: "emulated", prompt: "hello", max_tokens: 2 });

Deno.test("router: 415 unless the body is application/json (no content-type included)", async () => {
  await withFleet(one, {}, async ({ engines, router }) => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", null]) {
      const res = await fetch(`${router.url}/v1/completions`, {
        method: "POST",
        // A string body gets text/plain from fetch; a Blob without a type sends none.
        headers: type === null ? {} : { "content-type": type },
        body: type === null ? new Blob([body]) : body,
      });
      equal(res.status, 415, `content-type ${type}`);
      const e = (await res.json()).error;
      equal(e.type, "invalid_request_error");
      match(e.message, type === null ? /current value is none/ : new RegExp(`'${type}'`));
    }
    equal(engines[0].received.length, 0, "nothing reached the engine");
    const ok200 = await fetch(`${router.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "Application/JSON; charset=utf-8" },
      body,
    });
    equal(ok200.status, 200);
    await ok200.body?.cancel();
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    match(metrics, /pdroute_bad_requests_total\{status="415"\} 3/);
  });
});

Deno.test("router: a route's other methods are 405 with Allow; unknown paths 404", async () => {
  await withFleet(one, {}, async ({ router }) => {
    for (const path of ["/v1/completions", "/v1/chat/completions"]) {
      for (const method of ["GET", "PUT", "OPTIONS"]) {
        const res = await fetch(`${router.url}${path}`, { method });
        equal(res.status, 405, `${method} ${path}`);
        equal(res.headers.get("allow"), "POST");
        match((await res.json()).error.message, new RegExp(`method ${method} is not allowed`));
      }
    }
    for (const path of ["/v1/models", "/health", "/metrics", "/router/status"]) {
      const res = await fetch(`${router.url}${path}`, { method: "POST", body: "" });
      equal(res.status, 405, `POST ${path}`);
      equal(res.headers.get("allow"), "GET");
      await res.body?.cancel();
    }
    const nowhere = await fetch(`${router.url}/v1/embeddings`, { method: "POST", body });
    equal(nowhere.status, 404);
    await nowhere.body?.cancel();
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    match(metrics, /pdroute_bad_requests_total\{status="405"\} 10/);
  });
});

Deno.test("router: GET /v1/models/{id} answers the model object; unknown ids are 404", async () => {
  await withFleet(
    [{ role: "both", servedModelName: "org/model-x", maxModelLen: 4096 }],
    {},
    async ({ router }) => {
      const res = await fetch(`${router.url}/v1/models/org/model-x`);
      equal(res.status, 200);
      const m = await res.json();
      equal(m.id, "org/model-x");
      equal(m.object, "model");
      equal(m.max_model_len, 4096);
      const encoded = await fetch(`${router.url}/v1/models/org%2Fmodel-x`);
      equal((await encoded.json()).id, "org/model-x");
      const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: "none", maxRetries: 0 });
      equal((await client.models.retrieve("org/model-x")).id, "org/model-x");
      const missing = await fetch(`${router.url}/v1/models/nope`);
      equal(missing.status, 404);
      const e = (await missing.json()).error;
      equal(e.type, "not_found_error");
      equal(e.param, "model");
      equal(e.code, 404);
      match(e.message, /The model `nope` does not exist/);
      let thrown: unknown = null;
      try {
        await client.models.retrieve("nope");
      } catch (err) {
        thrown = err;
      }
      ok(thrown instanceof OpenAI.NotFoundError, `the client sees NotFoundError: ${thrown}`);
    },
  );
});

Deno.test("router: a body that stops arriving gets 408 within --body-timeout", async () => {
  await withFleet(one, { limits: { bodyTimeoutMs: 300 } }, async ({ engines, router }) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: router.port });
    try {
      await conn.write(
        new TextEncoder().encode(
          "POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
            'content-length: 1000\r\n\r\n{"model":',
        ),
      );
      // The client deadline is far beyond the body timeout: the answer must come first.
      const deadline = setTimeout(() => conn.close(), 10_000);
      let text = "";
      const buf = new Uint8Array(4096);
      while (!text.includes("}}")) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) break;
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      clearTimeout(deadline);
      match(text, /^HTTP\/1\.1 408/);
      match(text, /request body not received within 300 ms \(9 bytes of 1000 arrived/);
    } finally {
      try {
        conn.close();
      } catch {
        // closed by the deadline
      }
    }
    equal(engines[0].received.length, 0);
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    match(metrics, /pdroute_bad_requests_total\{status="408"\} 1/);
  });
});
