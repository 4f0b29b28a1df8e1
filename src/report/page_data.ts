/**
 * The data the report page's charts draw (the JSON inlined as #report-data and read by
 * client/render.js): per run, the sampled distributions, the reduced timeline, admissions per
 * GPU and the headline numbers. Nothing here is per request.
 */
import type { RunSummary } from "../metrics/run_metrics.ts";
import type { LoadedRun } from "./run_loader.ts";
import type { Distribution } from "./requests.ts";
import type { TimelineData } from "./timeline.ts";

export interface PageRun {
  readonly name: string;
  readonly dir: string;
  readonly ttftMs: Distribution;
  readonly tpotMs: Distribution;
  readonly goodput: RunSummary["goodput"];
  readonly cost: RunSummary["cost"];
  readonly perGpu: RunSummary["perGpu"];
  readonly timeline: TimelineData;
}

export interface PageData {
  readonly runs: PageRun[];
}

export function pageData(runs: readonly LoadedRun[]): PageData {
  return {
    runs: runs.map((r) => ({
      name: r.name,
      dir: r.dir,
      ttftMs: r.requests.ttftMs,
      tpotMs: r.requests.tpotMs,
      goodput: r.summary.goodput,
      cost: r.summary.cost,
      perGpu: r.summary.perGpu,
      timeline: r.timeline,
    })),
  };
}

/** JSON that is safe inside <script type="application/json">: no "</script>", no "<!--". */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll("<", "\\u003c")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}
