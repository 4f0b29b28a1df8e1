/**
 * The report module: read run directories (simulated or driven, same format), reduce them, and
 * write one self-contained HTML page, or flat CSV/JSON rows. See docs/REPORT.md.
 */
export { findRunDirs, type RunLocation } from "./discover.ts";
export { ReportSetupError, RunInputError } from "./errors.ts";
export { EXPORT_COLUMNS, exportRows, toCsv, toJson } from "./exports.ts";
export { renderReport, type ReportPage, type TableCell } from "./html.ts";
export { baselineIndex, uniqueLabels } from "./names.ts";
export { pageData } from "./page_data.ts";
export { type LoadedRun, loadRuns, loadSummaries, type RunEntry } from "./run_loader.ts";
export { readSummary, runSummarySchema, validateSummary } from "./summary_schema.ts";
export { browserLibraries, clientScript } from "./vendor.ts";
