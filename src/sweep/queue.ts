/**
 * Sweeps across machines over NATS JetStream (docs/SWEEP.md). The sweep publishes each point
 * to a work-queue stream; `pdroute worker` processes pull points one at a time from a shared
 * durable consumer, simulate each on a worker thread (so they keep acknowledging progress),
 * store its run directory's files in an object store and its summary on a results stream, and
 * only then acknowledge the point. A worker that dies leaves its point unacknowledged, and
 * JetStream redelivers it after `ackWaitMs`; the sweep keeps the first result per point and
 * drops repeats (publishes also carry a message id, which JetStream deduplicates), so nothing
 * is lost and nothing counts twice. The sweep writes the files itself: its output is the
 * local run's, byte for byte.
 *
 * Subjects: pdroute.points.<key> (work), pdroute.results.<key>; streams PDROUTE_POINTS
 * (work-queue retention) and PDROUTE_RESULTS; object store bucket pdroute_runs; consumer
 * pdroute-workers. `<key>` is the sweep's name plus a random suffix, so reruns never mix.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
} from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import type { RunSummary } from "../metrics/run_metrics.ts";
import { runSpecs } from "../sim/parallel.ts";
import { rebuildError, type RunSpec, type SpecError, specError } from "../sim/run_spec.ts";
import type { SweepPoint } from "./spec.ts";

const POINTS = "PDROUTE_POINTS";
const RESULTS = "PDROUTE_RESULTS";
const WORKERS = "pdroute-workers";
const BUCKET = "pdroute_runs";
export const DEFAULT_ACK_WAIT_MS = 30_000;

interface PointMessage {
  readonly key: string;
  readonly index: number;
  readonly spec: RunSpec;
}

type ResultMessage =
  | { readonly index: number; readonly summary: RunSummary; readonly files: readonly string[] }
  | { readonly index: number; readonly error: SpecError };

export class QueueError extends Error {
  override name = "QueueError";
}

/** nats://host:port (or host:port) -> the client's server string. */
function server(url: string): string {
  const m = /^(?:nats:\/\/)?([^/:\s]+):(\d+)\/?$/.exec(url.trim());
  if (!m) {
    throw new QueueError(`--queue takes nats://HOST:PORT: current value is '${url}'`);
  }
  return `${m[1]}:${m[2]}`;
}

async function open(url: string): Promise<NatsConnection> {
  try {
    return await connect({ servers: server(url), reconnect: true, maxReconnectAttempts: -1 });
  } catch (e) {
    if (e instanceof QueueError) throw e;
    throw new QueueError(`cannot reach the NATS server at ${url}: ${(e as Error).message}`);
  }
}

/** Streams, consumer and bucket, created if missing (by whichever side comes first). */
async function setUp(nc: NatsConnection, ackWaitMs: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const ensure = async (name: string, subjects: string[], workQueue: boolean) => {
    try {
      await jsm.streams.info(name);
    } catch {
      await jsm.streams.add({
        name,
        subjects,
        retention: workQueue ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
        duplicate_window: 3_600_000_000_000, // an hour, in ns: repeats of a publish are dropped
      });
    }
  };
  await ensure(POINTS, ["pdroute.points.>"], true);
  await ensure(RESULTS, ["pdroute.results.>"], false);
  const consumer = {
    durable_name: WORKERS,
    ack_policy: AckPolicy.Explicit,
    ack_wait: ackWaitMs * 1_000_000,
    max_deliver: -1,
  };
  try {
    await jsm.consumers.info(POINTS, WORKERS);
    await jsm.consumers.update(POINTS, WORKERS, { ack_wait: consumer.ack_wait });
  } catch {
    await jsm.consumers.add(POINTS, consumer);
  }
  await new Objm(nc).create(BUCKET);
}

/**
 * Publishes `points` and collects one result per point (writing each run directory's files
 * where a local run would); resolves with the summaries in point order.
 */
export async function runOnQueue(
  url: string,
  name: string,
  points: readonly SweepPoint[],
  onResult: (index: number, summary: RunSummary) => void,
  ackWaitMs = DEFAULT_ACK_WAIT_MS,
): Promise<RunSummary[]> {
  const nc = await open(url);
  try {
    await setUp(nc, ackWaitMs);
    const js = jetstream(nc);
    const store = await new Objm(nc).open(BUCKET);
    const key = `${name.replaceAll(".", "_")}-${crypto.randomUUID().slice(0, 8)}`;
    // Subscribe to results before publishing, so none can be missed.
    const results = await js.consumers.get(RESULTS, {
      filter_subjects: `pdroute.results.${key}`,
      deliver_policy: DeliverPolicy.All,
    });
    const messages = await results.consume();
    for (const p of points) {
      const message: PointMessage = { key, index: p.index, spec: { ...p.run, dir: null } };
      await js.publish(`pdroute.points.${key}`, JSON.stringify(message), {
        msgID: `${key}.${p.index}`,
      });
    }
    console.error(
      `pdroute sweep: ${points.length} points queued on ${url} as ${key}; ` +
        `waiting for workers (pdroute worker --queue ${url})`,
    );
    const summaries: (RunSummary | undefined)[] = new Array(points.length);
    let missing = points.length;
    for await (const m of messages) {
      const result = m.json<ResultMessage>();
      if (summaries[result.index] !== undefined) continue; // a redelivered point's repeat
      if ("error" in result) throw rebuildError(result.error);
      const dir = points[result.index].run.dir;
      if (dir) {
        await Deno.mkdir(dir, { recursive: true });
        for (const file of result.files) {
          const bytes = await store.getBlob(`${key}/${result.index}/${file}`);
          if (bytes === null) {
            throw new QueueError(`point ${result.index}: file '${file}' is missing from the store`);
          }
          await Deno.writeFile(`${dir}/${file}`, bytes);
        }
      }
      summaries[result.index] = result.summary;
      onResult(result.index, result.summary);
      if (--missing === 0) break;
    }
    // Leave nothing behind on the server.
    for (const p of points) {
      for (const file of ["config.json", "summary.json", "requests.csv", "timeline.csv"]) {
        await store.delete(`${key}/${p.index}/${file}`).catch(() => {});
      }
    }
    const jsm = await jetstreamManager(nc);
    await jsm.streams.purge(RESULTS, { filter: `pdroute.results.${key}` });
    return summaries as RunSummary[];
  } finally {
    await nc.close();
  }
}

export interface WorkerOptions {
  readonly ackWaitMs?: number;
  /** Stop after this many points (tests); default: run until the signal aborts. */
  readonly maxPoints?: number;
  readonly signal?: AbortSignal;
  readonly onStart?: (key: string, index: number) => void;
  readonly onPoint?: (key: string, index: number, ms: number) => void;
}

/** `pdroute worker`: pulls points and simulates them until aborted. */
export async function runWorker(url: string, options: WorkerOptions = {}): Promise<number> {
  const ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
  const nc = await open(url);
  let handled = 0;
  try {
    await setUp(nc, ackWaitMs);
    const js = jetstream(nc);
    const store = await new Objm(nc).open(BUCKET);
    const consumer = await js.consumers.get(POINTS, WORKERS);
    while (!options.signal?.aborted && handled !== options.maxPoints) {
      const m = await consumer.next({ expires: 1000 });
      if (!m) continue;
      const point = m.json<PointMessage>();
      options.onStart?.(point.key, point.index);
      const heartbeat = setInterval(() => m.working(), Math.max(200, ackWaitMs / 3));
      const dir = await Deno.makeTempDir({ prefix: "pdroute-worker-" });
      const started = performance.now();
      let result: ResultMessage;
      try {
        const [run] = await runSpecs([{ ...point.spec, dir }], { jobs: 1, thread: true });
        const files: string[] = [];
        for await (const entry of Deno.readDir(dir)) if (entry.isFile) files.push(entry.name);
        files.sort();
        for (const file of files) {
          await store.putBlob(
            { name: `${point.key}/${point.index}/${file}` },
            await Deno.readFile(`${dir}/${file}`),
          );
        }
        result = { index: point.index, summary: run.summary, files };
      } catch (e) {
        result = { index: point.index, error: specError(e) };
      } finally {
        clearInterval(heartbeat);
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
      // Stored (the server acknowledged it) before the point is acknowledged.
      await js.publish(`pdroute.results.${point.key}`, JSON.stringify(result), {
        msgID: `${point.key}.${point.index}`,
      });
      await m.ackAck();
      handled++;
      options.onPoint?.(point.key, point.index, performance.now() - started);
    }
    return handled;
  } finally {
    await nc.close();
  }
}
