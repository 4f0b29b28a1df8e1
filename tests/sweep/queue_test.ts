/**
 * A sweep over NATS JetStream (src/sweep/queue.ts) against a real nats-server (Debian's
 * package; .ci/run installs it): three `pdroute worker` processes on loopback, the first
 * SIGKILLed while it simulates a point. Every point comes back exactly once (its point is
 * redelivered: the consumer delivered more messages than the stream holds), and the sweep's
 * directory is byte-identical to the same sweep run locally. Skipped, saying so, only when no
 * nats-server can be found (set PDROUTE_NATS_SERVER to its path to use another).
 */
import { deepEqual, ok } from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { parseSweepSpec } from "../../src/sweep/spec.ts";
import { runSweep } from "../../src/sweep/sweep.ts";
import { readTree } from "../_files.ts";

function findServer(): string | null {
  const candidates = [Deno.env.get("PDROUTE_NATS_SERVER"), "nats-server", "/usr/sbin/nats-server"];
  for (const c of candidates) {
    if (!c) continue;
    try {
      if (
        new Deno.Command(c, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
          .success
      ) return c;
    } catch {
      // not there
    }
  }
  return null;
}

const server = findServer();
if (!server) {
  console.log(
    "tests/sweep/queue_test.ts: SKIPPED: no nats-server found (apt-get install nats-server, or set PDROUTE_NATS_SERVER)",
  );
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A process whose stderr lines we can wait on. */
function spawnWorker(url: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/main.ts", "worker", "--queue", url, "--ack-wait", "2s"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters: { test: RegExp; resolve: () => void }[] = [];
  (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of child.stderr) {
      buffered += decoder.decode(chunk);
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        for (const w of waiters.filter((w) => w.test.test(line))) w.resolve();
      }
    }
  })();
  const until = (test: RegExp) =>
    lines.some((l) => test.test(l)) ? Promise.resolve() : new Promise<void>((resolve) => {
      waiters.push({ test, resolve });
    });
  return { child, lines, until };
}

const SPEC = parseSweepSpec({
  name: "queue-test",
  workload: { kind: "preset", name: "chat", overrides: { requests: 1200 } },
  grid: {
    pools: [{ prefillGpus: 1, decodeGpus: 2 }, { prefillGpus: 2, decodeGpus: 4 }],
    ratePerSec: [20, 40],
    policies: ["round-robin", "predictive"],
    seeds: [1],
  },
  target: { goodputFraction: 0.9 },
}, "queue test spec");

Deno.test({
  name:
    "a JetStream sweep with a worker killed mid-point loses nothing, counts nothing twice, and matches a local run",
  ignore: server === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const port = freePort();
    const store = await Deno.makeTempDir();
    const nats = new Deno.Command(server!, {
      args: ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const url = `nats://127.0.0.1:${port}`;
    const workers: ReturnType<typeof spawnWorker>[] = [];
    try {
      // The server is up once a client connects.
      for (let i = 0;; i++) {
        try {
          await (await connect({ servers: `127.0.0.1:${port}` })).close();
          break;
        } catch (e) {
          if (i > 50) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const localOut = await Deno.makeTempDir(), queuedOut = await Deno.makeTempDir();
      const local = await runSweep(SPEC, { out: localOut, name: "s", jobs: 1 });
      const first = spawnWorker(url);
      workers.push(first);
      const queued = runSweep(SPEC, {
        out: queuedOut,
        name: "s",
        jobs: 1,
        queue: url,
        ackWaitMs: 2000,
      });
      // Kill the first worker while it simulates its first point, then bring two more.
      await first.until(/point \d+ started/);
      first.child.kill("SIGKILL");
      await first.child.status;
      workers.push(spawnWorker(url), spawnWorker(url));
      const remote = await queued;
      deepEqual(remote.summary.rows.map((r) => r.index), local.summary.rows.map((r) => r.index));
      const a = await readTree(`${localOut}/s`), b = await readTree(`${queuedOut}/s`);
      ok(Object.keys(a).length >= 8 * 4, "every point wrote its run directory");
      deepEqual(b, a);
      // The killed worker's point went out again: more deliveries than messages.
      const nc = await connect({ servers: `127.0.0.1:${port}` });
      const info = await (await jetstreamManager(nc)).consumers.info(
        "PDROUTE_POINTS",
        "pdroute-workers",
      );
      await nc.close();
      ok(
        info.delivered.consumer_seq > info.delivered.stream_seq,
        `expected a redelivery: ${info.delivered.consumer_seq} deliveries of ${info.delivered.stream_seq} points`,
      );
      ok(!first.lines.some((l) => /done/.test(l)), "the killed worker finished nothing");
    } finally {
      for (const w of workers) {
        try {
          w.child.kill("SIGTERM");
        } catch {
          // already gone
        }
        await w.child.status;
      }
      nats.kill("SIGTERM");
      await nats.status;
    }
  },
});
