/**
 * Precise KV awareness end to end: two emulators publish KV events (one in the array
 * encoding, one in the map encoding), the router consumes them, and a repeated long prompt goes
 * to the engine that really holds it after the engine the router had sent it to evicted it;
 * a malformed message and a killed publisher are survived (routing goes on, counters say so).
 */
import { equal, ok } from "node:assert/strict";
import { blockHashes } from "../../src/kv/block_hash.ts";
import { seqBytes } from "../../src/kv/publisher.ts";
import { loadTokenizer } from "../../src/kv/tokenizer.ts";
import { resolveRouterConfig } from "../../src/router/config.ts";
import { startRouter } from "../../src/router/server.ts";
import { complete, eventually, SPEED, startEngines } from "../_live.ts";
import { TOKENIZER, words } from "../kv/_fixture.ts";

/** Sum of a counter's samples in Prometheus text whose labels contain every `labels` pair. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

Deno.test("the router routes a repeated prompt to the engine whose KV events say it holds it", async () => {
  const engines = await startEngines(["array", "map"].map((encoding, i) => ({
    tokenizer: TOKENIZER,
    kvEvents: {
      endpoint: "tcp://127.0.0.1:0",
      // The first engine has a replay socket, the second none.
      replayEndpoint: i === 0 ? "tcp://127.0.0.1:0" : null,
      encoding: encoding as "array" | "map",
    },
    // A tiny fixed cache (reserved: a shared pool would cache all the free KV), so that a few
    // long prompts overflow it and evict.
    engine: { prefixCacheFraction: 0.003, prefixCachePool: "reserved" },
    defaultMaxTokens: 2,
  })));
  let running: Awaited<ReturnType<typeof startRouter>> | null = null;
  try {
    const pubs = engines.map((e) => e.kv!.publisher);
    running = await startRouter(resolveRouterConfig({
      port: 0,
      engineSpeed: SPEED,
      endpoints: engines.map((e) => ({ url: e.url, role: "both" })),
      telemetry: { scrapeIntervalMs: 0 },
      kv: {
        tokenizer: TOKENIZER,
        events: [
          {
            engine: engines[0].url,
            endpoint: pubs[0].endpoint,
            replayEndpoint: pubs[0].replayEndpoint!,
          },
          { engine: 1, endpoint: pubs[1].endpoint },
        ],
      },
    }));
    const router = running.router;
    const kv = router.kv!;
    const metrics = async () => await (await fetch(`${running!.url}/metrics`)).text();
    ok(await eventually(() => pubs.every((p) => p.subscriptions > 0), 10_000), "subscribed");

    const tok = await loadTokenizer(TOKENIZER);
    const capacity = engines[0].engine.prefixCache.capacityBlocks;
    const text = words(Math.floor(capacity * 16 * 0.6), 7);
    const ours = blockHashes(tok.promptIds({ prompt: text }, "completions"), 16);
    const full = ours.length * 16;
    const ask = (url: string, prompt: string) =>
      complete(url, { model: "emulated", prompt, max_tokens: 2 });
    const got = () => engines.map((e) => e.received.length);

    // 1. The router places the prompt on some engine X (the approximate mirror learns X).
    let before = got();
    equal((await ask(running.url, text)).status, 200);
    const x = got().findIndex((n, i) => n > before[i]);
    const y = 1 - x;
    ok(x >= 0);
    ok(await eventually(() => kv.match(x, ours)?.tokens === full, 10_000), "X's events seen");

    // 2. X evicts it (other prompts sent to X directly), 3. Y caches it (sent to Y directly).
    for (let seed = 100; engines[x].kv!.holds(ours[0]); seed++) {
      equal((await ask(engines[x].url, words(Math.floor(capacity * 16 * 0.6), seed))).status, 200);
      ok(seed < 110, "X never evicted the prompt");
    }
    equal((await ask(engines[y].url, text)).status, 200);
    ok(await eventually(() => kv.match(y, ours)?.tokens === full, 10_000), "Y's events seen");
    ok(await eventually(() => kv.match(x, ours)?.tokens === 0, 10_000), "X's eviction seen");

    // 4. The repeated prompt goes to Y, where it is a cache hit.
    before = got();
    const again = await ask(running.url, text);
    equal(again.status, 200);
    equal(got()[y], before[y] + 1, "routed to the engine that holds the prompt");
    equal(JSON.parse(again.text).usage.prompt_tokens_details.cached_tokens, full);
    let m = await metrics();
    ok(sample(m, "pdroute_kv_events_total", { type: "BlockStored" }) > 0);
    ok(sample(m, "pdroute_kv_events_total", { type: "BlockRemoved" }) > 0);
    equal(sample(m, "pdroute_kv_events_stale"), 0);

    // 5. Malformed messages on engine 0's stream: a bad sequence frame is ignored; a batch that
    // does not decode makes its index stale (approximate prefixes) until its cache is reset.
    pubs[0].sendRaw(["", "short", "x"]);
    pubs[0].skip();
    pubs[0].sendRaw(["", seqBytes(BigInt(pubs[0].published)), new Uint8Array([0xc1, 0xff])]);
    ok(
      await eventually(
        async () => sample(await metrics(), "pdroute_kv_events_stale") === 1,
        10_000,
      ),
      "engine 0 stale after an undecodable batch",
    );
    m = await metrics();
    equal(sample(m, "pdroute_kv_events_decode_errors_total", { reason: "sequence" }), 1);
    equal(sample(m, "pdroute_kv_events_decode_errors_total", { reason: "payload" }), 1);
    equal(kv.fresh(0), false);
    equal((await ask(running.url, text)).status, 200, "routing goes on");
    equal((await fetch(`${engines[0].url}/reset_prefix_cache`, { method: "POST" })).status, 200);
    ok(await eventually(() => kv.fresh(0) === true, 10_000), "fresh again after AllBlocksCleared");

    // 6. Engine 1's publisher is killed: counted, its index stale, routing goes on.
    await engines[1].kv!.close();
    ok(
      await eventually(
        async () => sample(await metrics(), "pdroute_kv_events_disconnects_total") === 1,
        10_000,
      ),
    );
    equal(kv.fresh(1), false);
    for (let i = 0; i < 3; i++) equal((await ask(running.url, words(40, 200 + i))).status, 200);
    equal((await ask(running.url, text)).status, 200);
  } finally {
    await running?.close();
    await Promise.all(engines.map((e) => e.close()));
  }
});
