/**
 * `pdroute sweep SPEC.json`: a grid of pool sizes x rates x policies x seeds over one workload
 * (src/sweep/, docs/SWEEP.md), run on local worker threads or, with `--queue`, on `pdroute
 * worker` processes through NATS JetStream; prints the fewest GPUs meeting the SLO goodput
 * target and writes the run directories, sweep.csv, sweep.json and sweep.html.
 */
import { basename } from "node:path";
import { Command } from "@commander-js/extra-typings";
import { PolicyInputError } from "../../core/errors.ts";
import { readJson } from "../../io/json_file.ts";
import { defaultJobs } from "../../sim/parallel.ts";
import { SimConfigError } from "../../sim/config.ts";
import { TopologyInputError } from "../../topology/mod.ts";
import { WorkloadError } from "../../workload/resolve.ts";
import { TraceError } from "../../workload/trace_error.ts";
import { DEFAULT_ACK_WAIT_MS, QueueError } from "../../sweep/queue.ts";
import { parseSweepSpec, SweepSpecError } from "../../sweep/spec.ts";
import { answerLines } from "../../sweep/summary.ts";
import { runSweep } from "../../sweep/sweep.ts";
import { CliError } from "../errors.ts";
import { parseDurationMs, parseJobs } from "../parse.ts";

const INPUT_ERRORS = [
  SweepSpecError,
  SimConfigError,
  TraceError,
  WorkloadError,
  TopologyInputError,
  PolicyInputError,
  QueueError,
];

export function sweepCommand() {
  return new Command("sweep")
    .description(
      "Simulate a grid (pools x rates x policies x seeds) and find the fewest GPUs meeting the SLO goodput target",
    )
    .argument("<spec>", "sweep spec (JSON; see docs/SWEEP.md and examples/sweep/)")
    .option("--out <dir>", "where the sweep's directory goes", "artifacts/sweeps")
    .option("--name <name>", "the sweep's directory name (default: the spec's name or file name)")
    .option(
      "--jobs <n>",
      `points simulated in parallel on worker threads (default: the cores, here ${defaultJobs()})`,
      parseJobs,
    )
    .option(
      "--queue <url>",
      "nats://HOST:PORT: publish the points to NATS JetStream for 'pdroute worker' processes",
    )
    .option(
      "--ack-wait <duration>",
      "with --queue: redeliver a point whose worker went silent this long",
      parseDurationMs,
    )
    .option("--no-report", "do not write sweep.html")
    .option("--json", "print the summary as JSON instead of lines")
    .action(async (file, opts) => {
      const name = opts.name ?? undefined;
      let result: Awaited<ReturnType<typeof runSweep>>;
      let input: unknown;
      try {
        input = await readJson(file, "sweep spec");
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      try {
        const spec = parseSweepSpec(input, file);
        const sweepName = name ?? spec.name ?? basename(file).replace(/\.json$/, "");
        if (!/^[A-Za-z0-9._-]+$/.test(sweepName)) {
          throw new SweepSpecError(
            `the sweep name must use letters, digits, '.', '_' or '-': current value is '${sweepName}'`,
          );
        }
        result = await runSweep(spec, {
          out: opts.out,
          name: sweepName,
          jobs: opts.jobs ?? defaultJobs(),
          queue: opts.queue,
          ackWaitMs: opts.ackWait ?? DEFAULT_ACK_WAIT_MS,
          report: opts.report,
          onPoint: (p, s, done, total) =>
            console.error(
              `point ${done}/${total}: ${p.group} ${p.policy}: goodput ${
                (s.goodput.fraction * 100).toFixed(1)
              }%`,
            ),
        });
      } catch (e) {
        if (INPUT_ERRORS.some((E) => e instanceof E)) throw new CliError((e as Error).message);
        throw e;
      }
      if (opts.json) {
        console.log(JSON.stringify({ dir: result.dir, ...result.summary }, null, 2));
        return;
      }
      console.log(`pdroute sweep: ${result.summary.rows.length} points -> ${result.dir}`);
      for (const line of answerLines(result.summary)) console.log(line);
      console.log(`table: ${result.dir}/sweep.csv`);
      if (opts.report) console.log(`report: ${result.dir}/sweep.html`);
    });
}
