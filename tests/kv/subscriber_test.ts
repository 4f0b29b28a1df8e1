/**
 * The subscriber against a real ZMQ publisher on loopback (free ports): sequence, gaps filled
 * by replay or marking the index stale, restarts, malformed messages and a vanished publisher.
 * Every wait is for a counter or state, bounded.
 */
import { equal, ok } from "node:assert/strict";
import client from "prom-client";
import { blockHashes } from "../../src/kv/block_hash.ts";
import type { OutEvent } from "../../src/kv/encode.ts";
import { KvIndex } from "../../src/kv/kv_index.ts";
import { KvMetrics } from "../../src/kv/kv_metrics.ts";
import { KvPublisher, seqBytes } from "../../src/kv/publisher.ts";
import { KvSubscriber } from "../../src/kv/subscriber.ts";
import { eventually } from "../_live.ts";

const TOKENS = Array.from({ length: 64 }, (_, i) => 7 + i);
const OURS = blockHashes(TOKENS, 16);

function stored(hash: bigint, block: number, parent: bigint | null): OutEvent {
  return {
    type: "BlockStored",
    blockHashes: [hash],
    parentBlockHash: parent,
    tokenIds: TOKENS.slice(16 * block, 16 * block + 16),
    blockSize: 16,
    medium: "GPU",
  };
}

async function counter(reg: client.Registry, name: string, labels: Record<string, string>) {
  const m = await reg.getSingleMetric(name)!.get();
  return m.values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((s, v) => s + v.value, 0);
}

async function withPair(
  replay: boolean | string,
  fn: (p: KvPublisher, s: KvSubscriber, reg: client.Registry, logs: string[]) => Promise<void>,
) {
  const pub = await KvPublisher.bind({
    host: "127.0.0.1",
    port: 0,
    replayPort: replay === true ? 0 : null,
    encoding: "array",
    topic: "kv@test",
  });
  const reg = new client.Registry();
  const index = new KvIndex();
  let sub: KvSubscriber | null = null;
  const metrics = new KvMetrics(reg, ["e0"], {
    stale: () => !sub!.fresh,
    connected: () => sub!.connected,
    index: () => index,
  });
  const logs: string[] = [];
  sub = new KvSubscriber(
    "e0",
    {
      endpoint: pub.endpoint,
      replayEndpoint: typeof replay === "string" ? replay : pub.replayEndpoint,
      topic: "",
      replayTimeoutMs: typeof replay === "string" ? 300 : 2000,
    },
    index,
    metrics,
    (l) => logs.push(l),
  );
  await sub.start();
  try {
    ok(await eventually(() => sub!.connected, 10_000), "subscriber connected");
    // A PUB socket drops what it sends before the subscription reaches it.
    ok(await eventually(() => pub.subscriptions > 0, 10_000), "subscription reached the publisher");
    await fn(pub, sub, reg, logs);
  } finally {
    await sub.close();
    await pub.close();
  }
}

Deno.test("events in sequence build the index; a gap is filled from the replay endpoint", async () => {
  await withPair(true, async (pub, sub, reg) => {
    pub.publish([stored(10n, 0, null)]);
    ok(await eventually(() => sub.index.match(OURS).tokens === 16, 10_000));
    ok(sub.fresh);
    pub.skip(); // seq 1 never reaches the subscriber ...
    pub.publish([stored(11n, 1, 10n)]);
    // ... but the publisher buffered nothing under seq 1, so the replay is incomplete.
    ok(
      await eventually(
        async () =>
          await counter(reg, "pdroute_kv_events_replays_total", { result: "incomplete" }) === 1,
        10_000,
      ),
    );
    ok(!sub.fresh, "a gap replay could not fill leaves the index stale");
    equal(sub.index.match(OURS).tokens, 0, "and cleared");
    // AllBlocksCleared makes the (empty) index exact again.
    pub.publish([{ type: "AllBlocksCleared" }, stored(20n, 0, null)]);
    ok(await eventually(() => sub.fresh && sub.index.match(OURS).tokens === 16, 10_000));
    equal(await counter(reg, "pdroute_kv_events_gaps_total", {}), 1);
  });
});

Deno.test("a lost batch the publisher still buffers is replayed", async () => {
  await withPair(true, async (pub, sub, reg) => {
    pub.publish([stored(10n, 0, null)]);
    ok(await eventually(() => sub.index.match(OURS).tokens === 16, 10_000));
    // Buffered under seq 1 but never sent (as if dropped by the network), then seq 2.
    const internal = pub as unknown as { sendRaw(f: unknown[]): void };
    const send = internal.sendRaw.bind(pub);
    internal.sendRaw = () => {};
    pub.publish([stored(11n, 1, 10n)]);
    internal.sendRaw = send;
    pub.publish([stored(12n, 2, 11n)]);
    ok(await eventually(() => sub.index.match(OURS).tokens === 48, 10_000));
    ok(sub.fresh);
    equal(await counter(reg, "pdroute_kv_events_replays_total", { result: "ok" }), 1);
    equal(await counter(reg, "pdroute_kv_events_missed_batches_total", {}), 1);
  });
});

Deno.test("without a replay endpoint a gap marks the index stale; a restart makes it fresh", async () => {
  await withPair(false, async (pub, sub, reg, logs) => {
    pub.publish([stored(10n, 0, null)]);
    ok(await eventually(() => sub.fresh, 10_000));
    pub.skip();
    pub.publish([stored(11n, 1, 10n)]);
    ok(
      await eventually(
        async () => await counter(reg, "pdroute_kv_events_gaps_total", {}) === 1,
        10_000,
      ),
    );
    ok(await eventually(() => !sub.fresh, 10_000));
    ok(logs.some((l) => /missed batches 1\.\.1; index stale/.test(l)), logs.join("\n"));
    // The engine restarts: its sequence starts again from 0 and its cache is empty.
    pub.sendRaw([
      "kv@test",
      seqBytes(0n),
      (await import("../../src/kv/encode.ts")).encodeBatch(0, [stored(30n, 0, null)], "map"),
    ]);
    ok(await eventually(() => sub.fresh, 10_000));
    equal(await counter(reg, "pdroute_kv_events_restarts_total", {}), 1);
    equal(sub.index.match(OURS).tokens, 16);
  });
});

Deno.test("malformed messages are counted and survived; a vanished publisher is a disconnect", async () => {
  await withPair(false, async (pub, sub, reg) => {
    pub.publish([stored(10n, 0, null)]);
    ok(await eventually(() => sub.fresh, 10_000));
    pub.sendRaw(["only-one-frame"]);
    pub.sendRaw(["kv@test", "short", "x"]);
    ok(
      await eventually(
        async () => await counter(reg, "pdroute_kv_events_decode_errors_total", {}) === 2,
        10_000,
      ),
    );
    ok(sub.fresh, "messages without a sequence do not cost the index");
    pub.sendRaw(["kv@test", seqBytes(1n), new Uint8Array([0xc1, 0x00])]);
    ok(
      await eventually(
        async () =>
          await counter(reg, "pdroute_kv_events_decode_errors_total", { reason: "payload" }) === 1,
        10_000,
      ),
    );
    ok(!sub.fresh, "an undecodable batch leaves the index stale");
    await pub.close();
    ok(
      await eventually(
        async () => await counter(reg, "pdroute_kv_events_disconnects_total", {}) === 1,
        10_000,
      ),
    );
    ok(!sub.connected);
  });
});

Deno.test("a replay endpoint that never answers times out: counted, logged, index stale", async () => {
  // A port nothing listens on (bound, then released): the DEALER's request goes nowhere.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dead = `tcp://127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
  l.close();
  await withPair(dead, async (pub, sub, reg, logs) => {
    pub.publish([stored(10n, 0, null)]);
    ok(await eventually(() => sub.fresh, 10_000));
    pub.skip();
    pub.publish([stored(11n, 1, 10n)]);
    ok(
      await eventually(
        async () =>
          await counter(reg, "pdroute_kv_events_replays_total", { result: "failed" }) === 1,
        10_000,
      ),
    );
    ok(!sub.fresh);
    ok(logs.some((l) => /replay from .* failed: no answer in 300 ms/.test(l)), logs.join("\n"));
    // The stream goes on: the next batch is applied (its parent is unknown: an orphan).
    pub.publish([stored(12n, 0, null)]);
    ok(await eventually(() => sub.index.sizes().gpu === 1, 10_000));
  });
});
