/**
 * Loads runs from their directories: the validated summary.json of each (enough for tables and
 * exports), and for the HTML report also the reduced requests.csv and timeline.csv and the
 * resolved config. Any directory written in this format works, simulated or driven.
 */
import { join } from "node:path";
import type { RunSummary } from "../metrics/run_metrics.ts";
import { findRunDirs, RUN_FILES, type RunLocation } from "./discover.ts";
import { readFailure, RunInputError } from "./errors.ts";
import { uniqueLabels } from "./names.ts";
import { readRequests, type RequestData } from "./requests.ts";
import { readSummary } from "./summary_schema.ts";
import { readTimeline, type TimelineData } from "./timeline.ts";

export interface RunEntry extends RunLocation {
  /** The label in summary.json. */
  readonly label: string;
  /** Unique among the runs being compared. */
  readonly name: string;
  readonly summary: RunSummary;
}

export interface LoadedRun extends RunEntry {
  /** The run's config.json, else its comparison directory's, else null. */
  readonly config: unknown;
  readonly configPath: string | null;
  readonly requests: RequestData;
  readonly timeline: TimelineData;
}

/** The runs `args` name (run or comparison directories), with validated summaries. */
export async function loadSummaries(args: readonly string[]): Promise<RunEntry[]> {
  const locations = findRunDirs(args);
  const summaries: RunSummary[] = [];
  for (const location of locations) {
    summaries.push(await readSummary(join(location.dir, "summary.json")));
  }
  const names = uniqueLabels(
    locations.map((l, i) => ({ dir: l.dir, label: summaries[i].run.label })),
  );
  return locations.map((l, i) => ({
    ...l,
    label: summaries[i].run.label,
    name: names[i],
    summary: summaries[i],
  }));
}

function requireFiles(dir: string): void {
  for (const file of RUN_FILES) {
    const path = join(dir, file);
    try {
      if (!Deno.statSync(path).isFile) throw new Deno.errors.IsADirectory(path);
    } catch (error) {
      throw new RunInputError(
        `cannot read '${path}': ${readFailure(error)} ` +
          `(a run directory holds ${RUN_FILES.join(", ")})`,
      );
    }
  }
}

async function readConfig(run: RunLocation): Promise<{ config: unknown; path: string | null }> {
  const candidates = [join(run.dir, "config.json")];
  if (run.parent !== null) candidates.push(join(run.parent, "config.json"));
  for (const path of candidates) {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw new RunInputError(`cannot read config file '${path}': ${readFailure(error)}`);
    }
    try {
      return { config: JSON.parse(text), path };
    } catch (error) {
      throw new RunInputError(
        `config file '${path}' is not valid JSON: ${(error as Error).message}`,
      );
    }
  }
  return { config: null, path: null };
}

/** Everything the HTML report shows about each run. */
export async function loadRuns(args: readonly string[]): Promise<LoadedRun[]> {
  for (const location of findRunDirs(args)) requireFiles(location.dir);
  const entries = await loadSummaries(args);
  const out: LoadedRun[] = [];
  for (const entry of entries) {
    const { config, path } = await readConfig(entry);
    out.push({
      ...entry,
      config,
      configPath: path,
      requests: await readRequests(join(entry.dir, "requests.csv")),
      timeline: await readTimeline(join(entry.dir, "timeline.csv")),
    });
  }
  return out;
}
