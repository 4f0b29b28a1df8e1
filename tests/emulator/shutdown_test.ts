/**
 * `pdroute emulate` stops on SIGTERM / SIGINT whatever its clients did: a non-streaming client
 * that disconnected mid-request once left its handler pending forever, so the HTTP server's
 * graceful shutdown never finished (sockets in CLOSE-WAIT, the process alive for minutes).
 */
import { equal, ok } from "node:assert/strict";
import { startEngines } from "../_live.ts";

const decoder = new TextDecoder();

/**
 * Sends a non-streaming completion over a raw socket (to close it before the answer). The
 * body is small on purpose: the server then sees the hang-up at once (with larger bodies
 * Deno notices a closed socket only when it writes the answer).
 */
async function requestThenHangUp(url: string, extra: Record<string, unknown> = {}) {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const body = JSON.stringify({ model: "emulated", prompt: "hi ".repeat(100), ...extra });
  await conn.write(
    new TextEncoder().encode(
      `POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
        `content-length: ${body.length}\r\n\r\n${body}`,
    ),
  );
  return conn;
}

/** Polls the emulator's vLLM gauges until no request runs or waits (true), or gives up. */
async function drained(url: string): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const n = [...text.matchAll(/^vllm:num_requests_(?:running|waiting)\{[^}]*\} (\S+)$/gm)]
      .reduce((a, m) => a + Number(m[1]), 0);
    if (n === 0) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** Resolves to "closed" if `p` settles within `ms`, else "hung". */
async function within(p: Promise<unknown>, ms: number): Promise<"closed" | "hung"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((r) => timer = setTimeout(() => r("hung"), ms));
  const out = await Promise.race([p.then(() => "closed" as const), hung]);
  clearTimeout(timer);
  return out;
}

Deno.test("emulator: the handler of a non-streaming request settles when its client leaves", async () => {
  const [e] = await startEngines([{ speed: 0.01 }]);
  try {
    const client = new AbortController();
    const answer = e.handle(
      new Request(`${e.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "emulated", prompt: "x", max_tokens: 500 }),
        signal: client.signal,
      }),
    );
    for (let i = 0; i < 100 && e.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 10));
    equal(e.inFlight, 1);
    client.abort();
    equal(await within(answer, 5_000), "closed", "the handler is not left pending");
    equal(e.inFlight, 0);
  } finally {
    await e.close();
  }
});

Deno.test("emulator: close() finishes after a non-streaming client hung up mid-request", async () => {
  const [e] = await startEngines([{ speed: 0.01 }]);
  const conn = await requestThenHangUp(e.url, { max_tokens: 500 });
  // The request is inside the engine, then its client leaves.
  for (let i = 0; i < 100 && e.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 10));
  equal(e.inFlight, 1);
  conn.close();
  ok(await drained(e.url), "the abandoned request left the engine");
  equal(await within(e.close(), 10_000), "closed");
});

Deno.test("emulator: close() answers a request still running", async () => {
  const [e] = await startEngines([{ speed: 0.01 }]);
  const stalled = fetch(`${e.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "emulated", prompt: "x", max_tokens: 500 }),
  }).then((r) => r.status, () => "broken");
  for (let i = 0; i < 100 && e.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 10));
  equal(await within(e.close(), 10_000), "closed");
  const status = await stalled;
  ok(status === 500 || status === 503 || status === "broken", `answered: ${status}`);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`emulate: exits on ${signal} after a non-streaming client disconnected`, async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--unstable-no-legacy-abort",
        new URL("../../src/cli/main.ts", import.meta.url).pathname,
        "emulate",
        "--port",
        "0",
        "--speed",
        "0.01",
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.getReader();
    let out = "";
    let url: string | undefined;
    while (url === undefined) {
      const r = await reader.read();
      if (r.done) break;
      out += decoder.decode(r.value);
      url = out.match(/http:\/\/[\d.]+:\d+/)?.[0];
    }
    ok(url, `emulate printed its URL: ${out}`);
    const conn = await requestThenHangUp(url, { max_tokens: 500 });
    await new Promise((r) => setTimeout(r, 300));
    conn.close();
    ok(await drained(url), "the abandoned request left the engine");
    child.kill(signal);
    const state = await within(child.status, 15_000);
    if (state === "hung") child.kill("SIGKILL");
    const status = await child.status;
    await reader.cancel();
    equal(state, "closed", `emulate did not exit on ${signal}`);
    equal(status.code, 0);
  });
}
