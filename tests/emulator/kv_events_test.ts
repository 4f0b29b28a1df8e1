/**
 * The emulator publishes vLLM's KV events: a subscriber's index (src/kv) follows its prefix
 * cache (stored, evicted, reset), in both encodings, with the token ids of the tokenizer.
 */
import { equal, ok, throws } from "node:assert/strict";
import client from "prom-client";
import { blockHashes } from "../../src/kv/block_hash.ts";
import { KvIndex } from "../../src/kv/kv_index.ts";
import { KvMetrics } from "../../src/kv/kv_metrics.ts";
import { loadTokenizer } from "../../src/kv/tokenizer.ts";
import { KvSubscriber } from "../../src/kv/subscriber.ts";
import { resolveEmulatorOptions } from "../../src/emulator/options.ts";
import { complete, eventually, startEngines } from "../_live.ts";
import { TOKENIZER, words } from "../kv/_fixture.ts";

async function count(reg: client.Registry, type: string): Promise<number> {
  const m = await reg.getSingleMetric("pdroute_kv_events_total")!.get();
  return m.values.filter((v) => v.labels.type === type).reduce((s, v) => s + v.value, 0);
}

for (const encoding of ["array", "map"] as const) {
  Deno.test(`the emulator publishes stored, removed and cleared blocks (${encoding})`, async () => {
    const [e] = await startEngines([{
      tokenizer: TOKENIZER,
      kvEvents: { endpoint: "tcp://127.0.0.1:0", replayEndpoint: "tcp://127.0.0.1:0", encoding },
      // A prefix cache of a few dozen 16-token blocks, so two long prompts overflow it (reserved:
      // a shared pool would cache all of the free KV).
      engine: { prefixCacheFraction: 0.003, prefixCachePool: "reserved" },
      defaultMaxTokens: 2,
    }]);
    const capacity = e.engine.prefixCache.capacityBlocks;
    const reg = new client.Registry();
    const index = new KvIndex();
    let sub: KvSubscriber | null = null;
    const metrics = new KvMetrics(reg, ["e"], {
      stale: () => !sub!.fresh,
      connected: () => sub!.connected,
      index: () => index,
    });
    const pub = e.kv!.publisher;
    sub = new KvSubscriber(
      "e",
      {
        endpoint: pub.endpoint,
        replayEndpoint: pub.replayEndpoint,
        topic: "",
        replayTimeoutMs: 2000,
      },
      index,
      metrics,
      () => {},
    );
    await sub.start();
    try {
      ok(capacity >= 8 && capacity < 200, `capacity ${capacity}`);
      ok(await eventually(() => pub.subscriptions > 0, 10_000));
      const tok = await loadTokenizer(TOKENIZER);
      const text = words(Math.floor(capacity * 16 * 0.6), 1);
      const ids = tok.promptIds({ prompt: text }, "completions");
      const ours = blockHashes(ids, 16);
      const r = await complete(e.url, { model: "emulated", prompt: text, max_tokens: 2 });
      equal(r.status, 200, r.text);
      ok(await eventually(() => index.match(ours).tokens === ours.length * 16, 10_000));
      ok(sub.fresh);
      ok(ours.every((h) => e.kv!.holds(h)), "the emulator holds what it published");
      // The same prompt again is a cache hit (the engine's usage says so).
      const again = await complete(e.url, { model: "emulated", prompt: text, max_tokens: 2 });
      const cached = JSON.parse(again.text).usage.prompt_tokens_details.cached_tokens;
      equal(cached, ours.length * 16);
      // Another long prompt overflows the cache: the first one's oldest blocks are evicted.
      const other = words(Math.floor(capacity * 16 * 0.6), 2);
      equal(
        (await complete(e.url, { model: "emulated", prompt: other, max_tokens: 2 })).status,
        200,
      );
      ok(await eventually(async () => await count(reg, "BlockRemoved") >= 1, 10_000));
      ok(await eventually(() => index.match(ours).tokens < ours.length * 16, 10_000));
      equal(index.sizes().gpu, e.engine.prefixCache.size, "the index holds what the cache holds");
      // A reset empties both.
      equal((await fetch(`${e.url}/reset_prefix_cache`, { method: "POST" })).status, 200);
      ok(await eventually(async () => await count(reg, "AllBlocksCleared") === 1, 10_000));
      equal(index.sizes().gpu, 0);
      equal(e.engine.prefixCache.size, 0);
      ok(sub.fresh);
    } finally {
      await sub.close();
      await e.close();
    }
  });
}

Deno.test("emulator KV event options are checked", () => {
  throws(
    () => resolveEmulatorOptions({ kvEvents: { endpoint: "tcp://127.0.0.1:0" } }),
    /needs a tokenizer/,
  );
  throws(
    () => resolveEmulatorOptions({ tokenizer: "x", kvEvents: { endpoint: "udp://x:1" } }),
    /kvEvents\.endpoint.*tcp:\/\/host:port/is,
  );
});
