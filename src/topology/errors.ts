/**
 * Topology errors. `ToolOutputError`: a probe source (nvidia-smi, sysfs) printed something we
 * cannot parse; the message names the source, line, field and value, and the probe stops (a
 * wrong topology is worse than none). `TopologyInputError`: a topology file or a placement
 * request is wrong; it is a `PolicyInputError`, so the CLI already reports it as bad input.
 */
import { PolicyInputError } from "../core/errors.ts";

export class ToolOutputError extends Error {
  override name = "ToolOutputError";
  constructor(
    readonly source: string,
    readonly line: number | null,
    readonly field: string,
    readonly value: string,
    problem: string,
  ) {
    const where = line === null ? "" : `, line ${line}`;
    super(
      `Cannot parse ${source}${where}: ${field} ${problem}: current value is ${
        JSON.stringify(value.length > 120 ? value.slice(0, 117) + "..." : value)
      }`,
    );
  }
}

export class TopologyInputError extends PolicyInputError {
  override name = "TopologyInputError";
}
