/**
 * summary.json validation and the exports built on it: CSV/JSON rows per run, and the
 * comparison table with ratios against a chosen baseline.
 */
import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { comparisonCells, comparisonTable } from "../../src/cli/format/comparison_table.ts";
import { RunInputError } from "../../src/report/errors.ts";
import { EXPORT_COLUMNS, exportRows, toCsv, toJson } from "../../src/report/exports.ts";
import { loadSummaries } from "../../src/report/run_loader.ts";
import { readSummary, validateSummary } from "../../src/report/summary_schema.ts";
import type { RunSummary } from "../../src/metrics/run_metrics.ts";
import { splitCsvLine } from "../../src/report/csv_reader.ts";
import { FIXTURE } from "./_helpers.ts";

const fixture = JSON.parse(Deno.readTextFileSync(join(FIXTURE, "summary.json")));

// deno-lint-ignore no-explicit-any
type Json = any;

/** The fixture summary with `change` applied to a deep copy. */
function variant(change: (s: Json) => void): RunSummary {
  const copy = structuredClone(fixture);
  change(copy);
  return validateSummary(copy, "variant.json");
}

Deno.test("validateSummary accepts a driven run's summary, extra fields included", async () => {
  const s = await readSummary(join(FIXTURE, "summary.json"));
  equal(s.run.label, "live");
  equal(s.ttftMs.p99, 343.5);
});

Deno.test("validateSummary: the first problem, naming the file, field and value", () => {
  const fails = (change: (s: Json) => void, message: RegExp) =>
    throws(() => variant(change), (e: Error) => {
      ok(e instanceof RunInputError, String(e));
      match(e.message, message);
      return true;
    });
  fails(
    (s) => s.ttftMs.p99 = "fast",
    /^Invalid summary file 'variant\.json': 'ttftMs\.p99' invalid input: expected number, received string: current value is "fast"$/,
  );
  fails((s) => delete s.cost, /'cost' invalid input: expected object, received undefined/);
  fails((s) => s.schemaVersion = 2, /'schemaVersion' invalid input: expected 1/);
  fails((s) => s.goodput.fraction = 1.5, /'goodput\.fraction' too big/);
  fails((s) => s.perGpu[1].prefills = -1, /'perGpu\.1\.prefills' too small/);
});

Deno.test("readSummary: unreadable and non-JSON files", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const bad = join(tmp, "summary.json");
    await Deno.writeTextFile(bad, '{"schemaVersion": 1, ');
    let message = "";
    await readSummary(bad).catch((e) => message = e.message);
    match(message, new RegExp(`^summary file '${bad}' is not valid JSON: `));
    await readSummary(join(tmp, "none.json")).catch((e) => message = e.message);
    equal(message, `cannot read summary file '${join(tmp, "none.json")}': no such file`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("exports: one row per run, same columns in CSV and JSON", () => {
  const runs = [
    { name: "live", dir: "runs/live", summary: validateSummary(fixture, "a") },
    { name: "b, quoted", dir: "runs/b", summary: variant((s) => s.ttftMs.p99 = 100) },
  ];
  const csv = toCsv(runs).trimEnd().split("\n");
  equal(csv.length, 3);
  const header = csv[0].split(",");
  deepEqual(header, EXPORT_COLUMNS.map(([k]) => k));
  for (const column of ["ttft_p99_ms", "goodput_fraction", "cost_per_million_tokens"]) {
    ok(header.includes(column), column);
  }
  const second = splitCsvLine(csv[2]);
  equal(second[0], "b, quoted");
  equal(second[header.indexOf("ttft_p99_ms")], "100");
  const json = JSON.parse(toJson(runs));
  deepEqual(json, exportRows(runs));
  deepEqual(Object.keys(json[0]), header);
  equal(json[0].requests_shed, 2);
  equal(json[0].cost_per_million_tokens, 1.073);
});

Deno.test("comparison table: ratios against a chosen baseline", () => {
  const base = validateSummary(fixture, "a");
  const better = variant((s) => {
    s.ttftMs.p50 = base.ttftMs.p50 / 2;
    s.goodput.fraction = 0.425;
  });
  const runs = [{ label: "fast", summary: better }, { label: "live", summary: base }];
  const { head, rows } = comparisonCells(runs, { baseline: 1, ratios: true });
  deepEqual(head, ["metric", "fast (predictive)", "live (predictive)", "fast / live"]);
  const row = (label: string) => rows.find((r) => r[0].text === label)!;
  deepEqual(row("TTFT p50 (ms)")[3], { text: "0.500x (-50.0%) better", tone: "better" });
  deepEqual(row("SLO goodput (fraction)")[3], { text: "0.500x (-50.0%) worse", tone: "worse" });
  deepEqual(row("migrations")[3], { text: "1.000x (same)" });
  deepEqual(row("preemptions")[3], { text: "same (0)" });
  // simulate's form is unchanged: one change column against the first run.
  const table = comparisonTable([{ label: "live", summary: base }, {
    label: "fast",
    summary: better,
  }]);
  match(table, /change vs live/);
  match(table, /TTFT p50 \(ms\) +│ 183\.5 +│ 91\.8 +│ -50\.0% better/);
});

Deno.test("a run that served nothing has no latency: n/a, and no change against it", () => {
  const base = variant(() => {});
  const none = variant((s) => {
    s.requests.completed = 0;
    s.requests.shed = s.requests.total;
    s.ttftMs.p95 = 0;
  });
  const runs = [{ label: "base", summary: base }, { label: "none", summary: none }];
  const row = (rows: { text: string }[][], label: string) => rows.find((r) => r[0].text === label)!;
  const { rows } = comparisonCells(runs);
  deepEqual(row(rows, "TTFT p95 (ms)").slice(2).map((c) => c.text), ["n/a (none served)", ""]);
  deepEqual(row(rows, "TPOT p99 (ms/token)")[2].text, "n/a (none served)");
  ok(row(rows, "shed + rejected + failed")[3].text.endsWith("worse"), "counts still compare");
  const ratios = comparisonCells(runs, { ratios: true }).rows;
  deepEqual(row(ratios, "TTFT p95 (ms)")[3], { text: "n/a" });
});

Deno.test("loadSummaries names runs uniquely across comparison directories", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    for (const id of ["r1", "r2"]) {
      for (const label of ["baseline", "optimized"]) {
        const dir = join(tmp, id, label);
        await Deno.mkdir(dir, { recursive: true });
        const s = structuredClone(fixture);
        s.run.label = label;
        await Deno.writeTextFile(join(dir, "summary.json"), JSON.stringify(s));
      }
    }
    const runs = await loadSummaries([join(tmp, "r1"), join(tmp, "r2")]);
    deepEqual(runs.map((r) => r.name), [
      "r1/baseline",
      "r1/optimized",
      "r2/baseline",
      "r2/optimized",
    ]);
    deepEqual(runs.map((r) => r.parent), [
      join(tmp, "r1"),
      join(tmp, "r1"),
      join(tmp, "r2"),
      join(tmp, "r2"),
    ]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
