/**
 * `pdroute report RUN_DIR...`: one self-contained HTML page of charts and tables comparing runs
 * (simulated or driven), or their summaries as CSV/JSON rows (`--format`). `writeHtmlReport`
 * is also what `simulate` calls for its own comparison.
 */
import { Command, Option } from "@commander-js/extra-typings";
import { basename, dirname, resolve } from "node:path";
import {
  baselineIndex,
  browserLibraries,
  clientScript,
  loadRuns,
  loadSummaries,
  pageData,
  renderReport,
  ReportSetupError,
  RunInputError,
  toCsv,
  toJson,
} from "../../report/mod.ts";
import { CliError } from "../errors.ts";
import { comparisonCells } from "../format/comparison_table.ts";

/** Bad run directories are bad input (exit 2); a missing chart library is a broken install (1). */
export async function reportErrors<T>(job: () => Promise<T>): Promise<T> {
  try {
    return await job();
  } catch (error) {
    if (error instanceof RunInputError) throw new CliError(error.message, 2);
    if (error instanceof ReportSetupError) throw new CliError(error.message, 1);
    throw error;
  }
}

export interface HtmlReportOptions {
  readonly baseline?: string;
  readonly title?: string;
}

/** Reads the runs `dirs` name and writes the page to `out`; returns its size in bytes. */
export async function writeHtmlReport(
  dirs: readonly string[],
  out: string,
  options: HtmlReportOptions = {},
): Promise<{ path: string; bytes: number; runs: number }> {
  const runs = await loadRuns(dirs);
  const baseline = baselineIndex(runs, options.baseline);
  const table = comparisonCells(runs.map((r) => ({ label: r.name, summary: r.summary })), {
    baseline,
    ratios: true,
  });
  const where = [...new Set(runs.map((r) => basename(resolve(r.parent ?? r.dir))))];
  const html = renderReport({
    title: options.title ?? `pdroute report: ${where.join(", ")}`,
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    runs,
    baseline,
    table,
    data: pageData(runs),
    libraries: await browserLibraries(),
    client: await clientScript(),
  });
  await Deno.mkdir(dirname(out), { recursive: true });
  const bytes = new TextEncoder().encode(html);
  await Deno.writeFile(out, bytes);
  return { path: out, bytes: bytes.length, runs: runs.length };
}

function defaultOut(dirs: readonly string[]): string {
  return dirs.length === 1
    ? `${dirs[0].replace(/\/+$/, "")}/report.html`
    : "artifacts/report/report.html";
}

export function reportCommand() {
  return new Command("report")
    .description(
      "Write a self-contained HTML report comparing runs, or export their summaries (CSV/JSON)",
    )
    .argument("<run-dirs...>", "run directories (holding summary.json) or directories of runs")
    .addOption(
      new Option("--format <format>", "html: the report page; csv, json: one row per run")
        .choices(["html", "csv", "json"] as const).default("html" as const),
    )
    .option(
      "--out <file>",
      "output file (html: default RUN_DIR/report.html for one directory, else " +
        "artifacts/report/report.html; csv/json: default stdout)",
    )
    .option(
      "--baseline <label-or-dir>",
      "html: the run the others are compared with (default: the first)",
    )
    .option("--title <text>", "html: page title")
    .action(async (dirs, opts) => {
      await reportErrors(async () => {
        if (opts.format === "html") {
          const out = opts.out ?? defaultOut(dirs);
          const report = await writeHtmlReport(dirs, out, opts);
          console.log(
            `report: ${report.path} (${report.runs} runs, ${(report.bytes / 1024).toFixed(0)} KiB)`,
          );
          return;
        }
        if (opts.baseline !== undefined || opts.title !== undefined) {
          throw new CliError(
            "--baseline and --title apply to the HTML report; for ratios in a table use 'pdroute compare'",
          );
        }
        const runs = await loadSummaries(dirs);
        const text = opts.format === "csv" ? toCsv(runs) : toJson(runs);
        if (opts.out === undefined) {
          console.log(text.trimEnd());
        } else {
          await Deno.mkdir(dirname(opts.out), { recursive: true });
          await Deno.writeTextFile(opts.out, text);
          console.error(`wrote ${opts.out} (${runs.length} runs)`);
        }
      });
    });
}
