/**
 * Router replicas sharing load over a real nats-server (src/router/sync/), in front of two
 * emulated engines, with traffic spread over the replicas, under faults:
 * - a replica SIGKILLed mid-load: only its own in-flight requests fail (each with an error at
 *   its client), the survivors' all complete, and the survivors drop its load after the peer
 *   timeout;
 * - NATS stopped and started again mid-load: no request fails or is lost; while NATS is away
 *   the replicas route on their own state (peers dropped, /router/status says disconnected),
 *   and afterwards each replica's view of the other matches what the other holds;
 * - a slow link (the peer's messages arrive late but it stays a peer) and a partition (each
 *   side drops the other, requests keep completing, and they find each other again).
 * Counts and states only, never speed. Skipped, saying so, only when no nats-server can be
 * found (.ci/run installs it).
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import type { Emulator } from "../../src/emulator/emulator.ts";
import { resolveRouterConfig } from "../../src/router/config.ts";
import { type RunningRouter, startRouter } from "../../src/router/server.ts";
import type { SyncConfig } from "../../src/router/sync/sync_config.ts";
import { eventually, prompt, sseEvents, startEngines } from "../_live.ts";
import { findNatsServer, NatsServer, TcpProxy } from "../_nats.ts";

const binary = findNatsServer();
if (!binary) {
  console.log(
    "tests/router/replicas_test.ts: SKIPPED: no nats-server found (apt-get install nats-server, or set PDROUTE_NATS_SERVER)",
  );
}

const SYNC = { heartbeatMs: 100, peerTimeoutMs: 1000, reconnectWaitMs: 100, flushMs: 2 };

function routerConfig(engines: Emulator[], sync: Partial<SyncConfig>) {
  return {
    port: 0,
    engineSpeed: 1,
    policy: { disaggregation: "never" },
    endpoints: engines.map((e) => ({ url: e.url, role: "both" as const })),
    sync: { ...SYNC, ...sync },
  };
}

interface Outcome {
  readonly replica: string;
  /** completed: every token and [DONE]; error-event: an SSE error; broken: the connection. */
  readonly kind: "completed" | "error-event" | "http-error" | "broken" | "lost";
  readonly error: string | null;
}

/** A streaming request through `url`; `started` resolves at its first chunk. */
function send(replica: string, url: string, maxTokens: number, promptTokens = 200) {
  const started = Promise.withResolvers<void>();
  const done = (async (): Promise<Outcome> => {
    let res: Response;
    const signal = AbortSignal.timeout(60_000);
    try {
      res = await fetch(`${url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "emulated",
          prompt: prompt(promptTokens),
          max_tokens: maxTokens,
          stream: true,
        }),
        signal,
      });
    } catch (e) {
      started.resolve();
      const kind = signal.aborted ? "lost" : "broken";
      return { replica, kind, error: (e as Error).message };
    }
    if (res.status !== 200) {
      started.resolve();
      return { replica, kind: "http-error", error: `${res.status} ${await res.text()}` };
    }
    let text = "";
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body!) {
        started.resolve();
        text += decoder.decode(chunk);
      }
    } catch (e) {
      started.resolve();
      return { replica, kind: signal.aborted ? "lost" : "broken", error: (e as Error).message };
    }
    const events = sseEvents(text);
    const error = events.map((e) => e === "[DONE]" ? null : JSON.parse(e).error?.message)
      .find((m) => m);
    if (error) return { replica, kind: "error-event", error };
    const tokens = events.filter((e) => e !== "[DONE]").length;
    return tokens === maxTokens && events.at(-1) === "[DONE]"
      ? { replica, kind: "completed", error: null }
      : { replica, kind: "broken", error: `${tokens} of ${maxTokens} tokens` };
  })();
  return { started: started.promise, done };
}

/** `n` streams spread round robin over `targets`. */
function wave(targets: readonly { id: string; url: string }[], n: number, maxTokens: number) {
  return Array.from(
    { length: n },
    (_, i) => send(targets[i % targets.length].id, targets[i % targets.length].url, maxTokens),
  );
}

function tally(out: readonly Outcome[]) {
  const t = { sent: out.length, completed: 0, errors: 0, lost: 0 };
  for (const o of out) {
    if (o.kind === "completed") t.completed++;
    else if (o.kind === "lost") t.lost++;
    else t.errors++;
  }
  return t;
}

/** What `r` believes peer `id` holds, per endpoint (seqs, kv), or null if not a peer. */
function viewOf(r: RunningRouter, id: string): [number, number][] | null {
  const p = r.router.sync!.peers.peers.get(id);
  return p ? p.load.map((l) => [l[1], l[2]]) : null;
}

function ownOf(r: RunningRouter): [number, number][] {
  return r.router.book.own.map((o) => [o.seqs, o.kv]);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Each router lists every other as a synced peer. */
function allPeered(routers: readonly { sync: () => RunningRouter["router"]["sync"] }[], n: number) {
  return routers.every((r) => {
    const s = r.sync()!;
    return s.link.connected && s.peers.peers.size === n - 1 &&
      [...s.peers.peers.values()].every((p) => p.synced);
  });
}

/** A `pdroute serve` subprocess with replica sync: its URL once it listens, and the child. */
async function spawnReplica(engines: Emulator[], natsUrl: string, id: string) {
  const dir = await Deno.makeTempDir();
  const config = `${dir}/router.json`;
  const { port: _, ...rest } = routerConfig(engines, { url: natsUrl, replicaId: id });
  await Deno.writeTextFile(config, JSON.stringify({ ...rest, port: 0 }));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-no-legacy-abort",
      "src/cli/main.ts",
      "serve",
      "--config",
      config,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!/http:\/\/127\.0\.0\.1:\d+/.test(seen)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the replica exited before listening: ${seen}`);
    seen += value;
  }
  void (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return { child, url: /http:\/\/127\.0\.0\.1:\d+/.exec(seen)![0], dir };
}

async function withStack(
  fn: (nats: NatsServer, engines: Emulator[], routers: RunningRouter[]) => Promise<void>,
  routerSyncs: ((nats: NatsServer) => Partial<SyncConfig>)[],
) {
  const nats = new NatsServer(binary!);
  await nats.start();
  const engines = await startEngines([{ speed: 1 }, { speed: 1 }]);
  const routers: RunningRouter[] = [];
  try {
    for (const s of routerSyncs) {
      routers.push(await startRouter(resolveRouterConfig(routerConfig(engines, s(nats)))));
    }
    await fn(nats, engines, routers);
  } finally {
    await Promise.all(routers.map((r) => r.close()));
    await Promise.all(engines.map((e) => e.close()));
    await nats.stop();
  }
}

const opts = { ignore: binary === null, sanitizeOps: false, sanitizeResources: false };

Deno.test({
  ...opts,
  name:
    "replicas: one SIGKILLed mid-load fails only its own requests; survivors drop its load after the timeout",
  fn: () =>
    withStack(async (nats, engines, [r0, r1]) => {
      const r2 = await spawnReplica(engines, nats.url, "r2");
      try {
        const ids = ["r0", "r1"];
        const targets = [{ id: "r0", url: r0.url }, { id: "r1", url: r1.url }, {
          id: "r2",
          url: r2.url,
        }];
        ok(
          await eventually(
            () => [r0, r1].every((r) => r.router.sync!.peers.peers.size === 2),
            15_000,
          ),
          "all three replicas see each other",
        );
        const flights = wave(targets, 24, 400);
        await Promise.all(flights.filter((_, i) => i % 3 === 2).map((f) => f.started));
        // r2's 8 streams are in flight: the survivors count them.
        ok(
          await eventually(() =>
            ids.every((_, k) => {
              const v = viewOf([r0, r1][k], "r2");
              return v !== null && v.reduce((a, [s]) => a + s, 0) === 8;
            }), 5000),
          `the survivors see r2's 8 sequences: ${JSON.stringify(viewOf(r0, "r2"))}`,
        );
        r2.child.kill("SIGKILL");
        await r2.child.status;
        const out = await Promise.all(flights.map((f) => f.done));
        const byReplica = (id: string) => tally(out.filter((o) => o.replica === id));
        deepEqual(byReplica("r0"), { sent: 8, completed: 8, errors: 0, lost: 0 });
        deepEqual(byReplica("r1"), { sent: 8, completed: 8, errors: 0, lost: 0 });
        deepEqual(byReplica("r2"), { sent: 8, completed: 0, errors: 8, lost: 0 });
        for (const o of out.filter((o) => o.replica === "r2")) {
          equal(o.kind, "broken", "the killed replica's clients see their connection break");
          ok(o.error && o.error.length > 0);
        }
        ok(
          await eventually(() => [r0, r1].every((r) => viewOf(r, "r2") === null), 5000),
          "r2 is dropped",
        );
        for (const r of [r0, r1]) {
          const st = r.router.status().sync!;
          equal(st.peersTimedOut, 1, "dropped by the timeout (a killed replica says no bye)");
          equal(st.peersDeparted, 0);
          deepEqual(st.peers.map((p) => p.id), [r === r0 ? "r1" : "r0"]);
          ok(
            await eventually(() => r.router.book.peers.every((p) => p.seqs === 0 && p.kv === 0)),
            "no peer load left once every request ended (r2's went with it)",
          );
          match(
            await (await fetch(`${r.url}/metrics`)).text(),
            /pdroute_sync_peer_timeouts_total 1/,
          );
        }
        // The survivors keep serving.
        const after = await Promise.all(wave(targets.slice(0, 2), 8, 20).map((f) => f.done));
        deepEqual(tally(after), { sent: 8, completed: 8, errors: 0, lost: 0 });
      } finally {
        try {
          r2.child.kill("SIGKILL");
        } catch {
          // already gone
        }
        await r2.child.status;
        await Deno.remove(r2.dir, { recursive: true });
      }
    }, [(n) => ({ url: n.url, replicaId: "r0" }), (n) => ({ url: n.url, replicaId: "r1" })]),
});

Deno.test({
  ...opts,
  name:
    "replicas: NATS stopped and restarted mid-load loses no request; replicas fail open, then reconverge",
  fn: () =>
    withStack(async (nats, _engines, routers) => {
      const [r0, r1] = routers;
      const sync = routers.map((r) => ({ sync: () => r.router.sync }));
      const targets = [{ id: "r0", url: r0.url }, { id: "r1", url: r1.url }];
      ok(await eventually(() => allPeered(sync, 2), 10_000), "the replicas see each other");
      const a = wave(targets, 12, 400);
      await Promise.all(a.map((f) => f.started));
      ok(
        await eventually(() =>
          same(viewOf(r0, "r1"), ownOf(r1)) && same(viewOf(r1, "r0"), ownOf(r0))
        ),
        `in step before the fault: ${JSON.stringify([viewOf(r0, "r1"), ownOf(r1)])}`,
      );
      await nats.stop();
      ok(
        await eventually(() =>
          routers.every((r) => {
            const s = r.router.status().sync!;
            return s.state === "disconnected" && s.peers.length === 0;
          }), 10_000),
        "both notice and drop the other: routing on own state",
      );
      for (const r of routers) {
        match(r.router.status().sync!.lastError, /NATS at nats:\/\/127\.0\.0\.1/);
        ok(r.router.book.peers.every((p) => p.seqs === 0), "no peer load while NATS is away");
        match(await (await fetch(`${r.url}/metrics`)).text(), /pdroute_sync_connected 0/);
      }
      const b = await Promise.all(wave(targets, 12, 20).map((f) => f.done));
      deepEqual(
        tally(b),
        { sent: 12, completed: 12, errors: 0, lost: 0 },
        "served during the outage",
      );
      await nats.start();
      ok(await eventually(() => allPeered(sync, 2), 15_000), "they find each other again");
      const c = wave(targets, 12, 400);
      await Promise.all(c.map((f) => f.started));
      ok(
        await eventually(() =>
          same(viewOf(r0, "r1"), ownOf(r1)) && same(viewOf(r1, "r0"), ownOf(r0))
        ),
        `reconverged: ${
          JSON.stringify([viewOf(r0, "r1"), ownOf(r1), viewOf(r1, "r0"), ownOf(r0)])
        }`,
      );
      const rest = await Promise.all([...a, ...c].map((f) => f.done));
      deepEqual(
        tally(rest),
        { sent: 24, completed: 24, errors: 0, lost: 0 },
        "none lost across the restart",
      );
      ok(
        await eventually(() =>
          routers.every((r) => r.router.book.peers.every((p) => p.seqs === 0))
        ),
      );
      // A prefix r0 recorded reaches r1's mirror; a replica joining later gets it in a snapshot.
      const blocks = (r: RunningRouter) =>
        r.router.book.prefixes.blocks(0).concat(r.router.book.prefixes.blocks(1)).sort();
      const before = blocks(r0).length;
      equal((await send("r0", r0.url, 4, 3000).done).kind, "completed");
      ok(blocks(r0).length >= before + 5, "a 3000-token prompt records 5 blocks");
      ok(await eventually(() => same(blocks(r1), blocks(r0))), "r1 mirrors r0's prefixes");
      routers.push(
        await startRouter(
          resolveRouterConfig(routerConfig(_engines, { url: nats.url, replicaId: "r2" })),
        ),
      );
      const r2 = routers[2];
      ok(
        await eventually(() => same(blocks(r2), blocks(r0)), 5000),
        "r2 got the mirror on joining",
      );
      ok(
        await eventually(
          () => allPeered(routers.map((r) => ({ sync: () => r.router.sync })), 3),
          5000,
        ),
      );
    }, [(n) => ({ url: n.url, replicaId: "r0" }), (n) => ({ url: n.url, replicaId: "r1" })]),
});

Deno.test({
  ...opts,
  name:
    "replicas: a slow link delays a peer without dropping it; a partition drops both sides, then heals",
  fn: async () => {
    let proxy: TcpProxy | null = null;
    try {
      await withStack(async (_nats, _engines, routers) => {
        const [r0, r1] = routers;
        const sync = routers.map((r) => ({ sync: () => r.router.sync }));
        const targets = [{ id: "r0", url: r0.url }, { id: "r1", url: r1.url }];
        ok(await eventually(() => allPeered(sync, 2), 10_000), "the replicas see each other");
        // Slow: r1's traffic through NATS arrives 200 ms late, within the 1 s peer timeout.
        proxy!.delay(200);
        const slow = wave(targets, 8, 200);
        ok(
          await eventually(() => (r0.router.sync!.peers.peers.get("r1")?.lagMs ?? 0) >= 150, 5000),
          "r0 sees r1's messages late",
        );
        deepEqual(tally(await Promise.all(slow.map((f) => f.done))), {
          sent: 8,
          completed: 8,
          errors: 0,
          lost: 0,
        });
        equal(r0.router.status().sync!.peersTimedOut, 0, "a slow peer is still a peer");
        proxy!.release();
        ok(await eventually(() => same(viewOf(r0, "r1"), ownOf(r1)), 5000));
        // Partitioned: nothing passes between r1 and NATS.
        proxy!.hold();
        const cut = wave(targets, 8, 200);
        ok(
          await eventually(() => viewOf(r0, "r1") === null && viewOf(r1, "r0") === null, 10_000),
          "each side drops the other after the peer timeout",
        );
        ok(
          await eventually(() => r1.router.status().sync!.state === "disconnected", 15_000),
          "r1 notices it lost NATS (missed pings)",
        );
        deepEqual(tally(await Promise.all(cut.map((f) => f.done))), {
          sent: 8,
          completed: 8,
          errors: 0,
          lost: 0,
        });
        proxy!.release();
        ok(await eventually(() => allPeered(sync, 2), 15_000), "healed: peers again");
        const healed = wave(targets, 8, 400);
        await Promise.all(healed.map((f) => f.started));
        ok(
          await eventually(() =>
            same(viewOf(r0, "r1"), ownOf(r1)) && same(viewOf(r1, "r0"), ownOf(r0))
          ),
          "in step after the partition",
        );
        deepEqual(tally(await Promise.all(healed.map((f) => f.done))), {
          sent: 8,
          completed: 8,
          errors: 0,
          lost: 0,
        });
      }, [
        (n) => ({ url: n.url, replicaId: "r0" }),
        (n) => {
          proxy = new TcpProxy(n.port);
          return { url: proxy.url, replicaId: "r1" };
        },
      ]);
    } finally {
      (proxy as TcpProxy | null)?.close();
    }
  },
});
