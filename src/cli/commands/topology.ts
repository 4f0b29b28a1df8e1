/**
 * `pdroute topology`: probe this machine's GPUs, NUMA nodes and GPU links, write the topology
 * document (docs/TOPOLOGY.md) and print a summary. A machine without GPUs or nvidia-smi is a
 * valid answer (status unavailable, exit 0); unparseable tool output is a failure (exit 1).
 */
import { Command, InvalidArgumentError } from "@commander-js/extra-typings";
import {
  loadTopology,
  type ProbeEnv,
  probeTopology,
  renderTopologySummary,
  systemProbeEnv,
  ToolOutputError,
  writeTopology,
} from "../../topology/mod.ts";
import { CliError } from "../errors.ts";

export const DEFAULT_TOPOLOGY_PATH = "artifacts/topology/topology.json";

function parseTimeout(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 1 || ms > 600_000) {
    throw new InvalidArgumentError(`expected whole milliseconds from 1 to 600000, got ${value}`);
  }
  return ms;
}

/** `makeEnv` exists for tests: they probe recorded fixtures instead of this machine. */
export function topologyCommand(
  makeEnv: (timeoutMs: number) => ProbeEnv = (timeoutMs) => systemProbeEnv({ timeoutMs }),
) {
  return new Command("topology")
    .description(
      "Probe GPUs (nvidia-smi), host NUMA nodes (sysfs) and GPU links; write the topology " +
        "document the policy uses and print a summary",
    )
    .option("--out <file>", "where to write the document", DEFAULT_TOPOLOGY_PATH)
    .option("--json", "print the raw document instead of the summary")
    .option("--from <file>", "summarise a saved document instead of probing (writes nothing)")
    .option("--timeout-ms <ms>", "time limit for each nvidia-smi call", parseTimeout, 10_000)
    .action(async (options) => {
      let doc;
      if (options.from !== undefined) {
        doc = await loadTopology(options.from);
      } else {
        try {
          doc = await probeTopology(makeEnv(options.timeoutMs));
        } catch (error) {
          if (error instanceof ToolOutputError) {
            throw new CliError(`topology probe failed: ${error.message}`, 1);
          }
          throw error;
        }
        await writeTopology(options.out, doc);
      }
      if (options.json) {
        console.log(JSON.stringify(doc, null, 2));
      } else {
        console.log(renderTopologySummary(doc));
      }
      if (options.from === undefined) {
        (options.json ? console.error : console.log)(`Wrote ${options.out}`);
      }
    });
}
