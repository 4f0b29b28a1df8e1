/**
 * Which run directories the command line names. An argument is either a run directory (it has
 * summary.json, requests.csv or timeline.csv) or a comparison directory holding run directories
 * (what `pdroute simulate` writes: `<run-id>/baseline`, `<run-id>/optimized`). Runs keep the
 * order given; a comparison directory's runs come in name order.
 */
import { join, resolve } from "node:path";
import { readFailure, RunInputError } from "./errors.ts";

export const RUN_FILES = ["summary.json", "requests.csv", "timeline.csv"] as const;

export interface RunLocation {
  /** The run directory as the user would write it (joined onto the argument). */
  readonly dir: string;
  /** The comparison directory it was found in, if it came from one. */
  readonly parent: string | null;
}

function entries(dir: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(dir)];
  } catch (error) {
    throw new RunInputError(`cannot read run directory '${dir}': ${readFailure(error)}`);
  }
}

function isRunDir(names: ReadonlySet<string>): boolean {
  return RUN_FILES.some((f) => names.has(f));
}

/** The run directories that `args` name, deduplicated, in order. */
export function findRunDirs(args: readonly string[]): RunLocation[] {
  if (args.length === 0) throw new RunInputError("no run directory given");
  const out: RunLocation[] = [];
  const seen = new Set<string>();
  const add = (location: RunLocation) => {
    const key = resolve(location.dir);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(location);
  };
  for (const arg of args) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(arg);
    } catch (error) {
      throw new RunInputError(`cannot read run directory '${arg}': ${readFailure(error)}`);
    }
    if (!info.isDirectory) {
      throw new RunInputError(
        `'${arg}' is a file: give the run directory that holds summary.json, or a directory of runs`,
      );
    }
    const here = entries(arg);
    if (isRunDir(new Set(here.map((e) => e.name)))) {
      add({ dir: arg, parent: null });
      continue;
    }
    const children = here.filter((e) => e.isDirectory).map((e) => e.name).sort()
      .filter((name) => isRunDir(new Set(entries(join(arg, name)).map((e) => e.name))));
    if (children.length === 0) {
      throw new RunInputError(
        `'${arg}' holds no run: no summary.json in it or in any directory directly under it`,
      );
    }
    for (const name of children) add({ dir: join(arg, name), parent: arg });
  }
  return out;
}
