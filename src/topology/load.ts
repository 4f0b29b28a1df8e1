/**
 * Topology files: `loadTopology(path)` for the `--topology FILE` flags, `writeTopology` for the
 * probe, and `loadPlacement` for callers that just want placements with or without a file.
 * Every error names the file and, for content, the field and value (`TopologyInputError`, a
 * `PolicyInputError`: the CLI reports it as bad input, exit 2).
 */
import { dirname } from "node:path";
import { validateTopology } from "./document.ts";
import { TopologyInputError } from "./errors.ts";
import {
  defaultPlacement,
  type EndpointGpu,
  placeEndpoints,
  type Placement,
  type PlacementOptions,
} from "./placement.ts";
import type { TopologyDocument } from "./schema.ts";

/** Parses and validates the text of a topology file; `source` names it in errors. */
export function parseTopology(text: string, source: string): TopologyDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TopologyInputError(
      `Invalid topology file '${source}': not JSON (${(error as Error).message})`,
    );
  }
  return validateTopology(value, `topology file '${source}'`);
}

export async function loadTopology(path: string): Promise<TopologyDocument> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? "no such file" : (error as Error).message;
    throw new TopologyInputError(`Cannot read topology file '${path}': ${why}`);
  }
  return parseTopology(text, path);
}

export async function writeTopology(path: string, doc: TopologyDocument): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(doc, null, 2) + "\n");
}

/**
 * Placements for endpoints on one host: from the topology file at `path`, or the documented
 * default (`defaultPlacement`: all pairs equal) when `path` is undefined.
 */
export async function loadPlacement(
  path: string | undefined,
  endpoints: readonly (number | EndpointGpu)[],
  options: PlacementOptions = {},
): Promise<Placement> {
  if (path === undefined) return defaultPlacement(endpoints.length);
  return placeEndpoints(await loadTopology(path), endpoints, options);
}
