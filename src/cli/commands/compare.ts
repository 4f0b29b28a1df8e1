/**
 * `pdroute compare RUN_DIR...`: the side-by-side table `simulate` prints, for any runs
 * (simulated or driven, from run or comparison directories), with each run's ratio to a
 * baseline run.
 */
import { Command } from "@commander-js/extra-typings";
import { baselineIndex, loadSummaries } from "../../report/mod.ts";
import { comparisonTable } from "../format/comparison_table.ts";
import { reportErrors } from "./report.ts";

export function compareCommand() {
  return new Command("compare")
    .description("Print a side-by-side table of runs with ratios against a baseline run")
    .argument("<run-dirs...>", "run directories (holding summary.json) or directories of runs")
    .option("--baseline <label-or-dir>", "the run the others are divided by (default: first)")
    .action(async (dirs, opts) => {
      await reportErrors(async () => {
        const runs = await loadSummaries(dirs);
        const baseline = baselineIndex(runs, opts.baseline);
        console.log(`compare: ${runs.length} runs, baseline ${runs[baseline].name}`);
        for (const r of runs) console.log(`  ${r.name}: ${r.dir}`);
        console.log(
          comparisonTable(runs.map((r) => ({ label: r.name, summary: r.summary })), {
            baseline,
            ratios: true,
          }),
        );
      });
    });
}
