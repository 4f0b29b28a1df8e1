/**
 * `pdroute worker --queue nats://HOST:PORT`: pulls sweep points from NATS JetStream, simulates
 * them one at a time and publishes their results (src/sweep/queue.ts, docs/SWEEP.md). Runs
 * until interrupted; run one per core, on as many machines as you like.
 */
import { Command } from "@commander-js/extra-typings";
import { DEFAULT_ACK_WAIT_MS, QueueError, runWorker } from "../../sweep/queue.ts";
import { CliError } from "../errors.ts";
import { parseDurationMs } from "../parse.ts";
import { untilSignal } from "../signals.ts";

export function workerCommand() {
  return new Command("worker")
    .description("Simulate sweep points pulled from a NATS JetStream queue (see pdroute sweep)")
    .requiredOption("--queue <url>", "nats://HOST:PORT of the sweep's NATS server (JetStream on)")
    .option(
      "--ack-wait <duration>",
      "how long a silent worker keeps its point before it is redelivered",
      parseDurationMs,
    )
    .action(async (opts) => {
      const stop = new AbortController();
      untilSignal().then(() => stop.abort());
      console.error(`pdroute worker: pulling points from ${opts.queue}`);
      try {
        const handled = await runWorker(opts.queue, {
          ackWaitMs: opts.ackWait ?? DEFAULT_ACK_WAIT_MS,
          signal: stop.signal,
          onStart: (key, index) => console.error(`pdroute worker: ${key} point ${index} started`),
          onPoint: (key, index, ms) =>
            console.error(
              `pdroute worker: ${key} point ${index} done in ${(ms / 1000).toFixed(1)} s`,
            ),
        });
        console.error(`pdroute worker: stopped after ${handled} points`);
      } catch (e) {
        if (e instanceof QueueError) throw new CliError(e.message);
        throw e;
      }
    });
}
