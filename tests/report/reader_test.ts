/**
 * The run reader: finding runs, reading another writer's CSVs (column order, extra columns,
 * CRLF, quoted fields, epoch times, no router_queue column), distributions and their sampling,
 * timeline reduction, and names and baselines.
 */
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { findRunDirs } from "../../src/report/discover.ts";
import { RunInputError } from "../../src/report/errors.ts";
import { baselineIndex, uniqueLabels } from "../../src/report/names.ts";
import { cdfSample, percentile } from "../../src/report/quantiles.ts";
import { readRequests } from "../../src/report/requests.ts";
import { loadRuns } from "../../src/report/run_loader.ts";
import { readTimeline } from "../../src/report/timeline.ts";
import { splitCsvLine } from "../../src/report/csv_reader.ts";
import { copyFixture, FIXTURE, tempDir } from "./_helpers.ts";

const tmp = tempDir();

Deno.test("findRunDirs: a run dir, a comparison dir (name order), duplicates once", () => {
  const parent = join(tmp, "find");
  const b = copyFixture(parent, "b-run");
  const a = copyFixture(parent, "a-run");
  Deno.mkdirSync(join(parent, "not-a-run"));
  Deno.writeTextFileSync(join(parent, "config.json"), "{}");
  deepEqual(findRunDirs([parent, b]), [
    { dir: a, parent },
    { dir: b, parent },
  ]);
  deepEqual(findRunDirs([b]), [{ dir: b, parent: null }]);
});

Deno.test("findRunDirs: nothing to read is a RunInputError naming the path", () => {
  const empty = join(tmp, "empty");
  Deno.mkdirSync(join(empty, "sub"), { recursive: true });
  throws(() => findRunDirs([empty]), (e: Error) => {
    ok(e instanceof RunInputError);
    equal(
      e.message,
      `'${empty}' holds no run: no summary.json in it or in any directory directly under it`,
    );
    return true;
  });
  throws(
    () => findRunDirs([join(tmp, "nope")]),
    /cannot read run directory '.*nope': no such file/,
  );
  throws(() => findRunDirs([join(FIXTURE, "summary.json")]), /summary\.json' is a file/);
});

Deno.test("splitCsvLine: plain and quoted fields", () => {
  deepEqual(splitCsvLine("1,a,,2.5"), ["1", "a", "", "2.5"]);
  deepEqual(splitCsvLine('1,"decode,fast","say ""hi""",x'), ["1", "decode,fast", 'say "hi"', "x"]);
});

Deno.test("readRequests: another writer's requests.csv; exact percentiles of ok rows", async () => {
  const r = await readRequests(join(FIXTURE, "requests.csv"));
  equal(r.rows, 60);
  deepEqual(r.byStatus, { ok: 57, shed: 2, rejected: 1 });
  // TTFT of ok request i is 20 + 5.5 i; i = 13, 29, 41 are not ok.
  equal(r.ttftMs.count, 57);
  equal(r.ttftMs.p50, 20 + 5.5 * 30);
  equal(r.ttftMs.p95, 20 + 5.5 * 57);
  equal(r.ttftMs.p99, 20 + 5.5 * 59);
  // TPOT only where output_tokens > 1 (every tenth request has one token).
  equal(r.tpotMs.count, 51);
  equal(r.ttftMs.cdf.length, 57, "few rows: every value is a point");
  equal(r.ttftMs.cdf.at(-1)!.p, 1);
});

Deno.test("cdfSample: bounded points, monotone, endpoints kept; percentile is nearest-rank", () => {
  const n = 100_000;
  const sorted = Float64Array.from({ length: n }, (_, i) => i + 1);
  const cdf = cdfSample(sorted);
  ok(cdf.length <= 250, `${cdf.length} points`);
  deepEqual(cdf[0], { value: 1, p: 1 / n });
  deepEqual(cdf.at(-1), { value: n, p: 1 });
  for (let i = 1; i < cdf.length; i++) {
    ok(cdf[i].value > cdf[i - 1].value && cdf[i].p > cdf[i - 1].p);
  }
  ok(cdf.filter((pt) => pt.p >= 0.99).length >= 45, "the tail is sampled densely");
  equal(percentile(sorted, 50), 50_000);
  equal(percentile(sorted, 99), 99_000);
  equal(percentile(sorted, 100), n);
  ok(Number.isNaN(percentile(new Float64Array(), 50)));
  // Ties: the CDF at a repeated value counts all copies.
  deepEqual(cdfSample(Float64Array.from([1, 2, 2, 2, 3])), [
    { value: 1, p: 0.2 },
    { value: 2, p: 0.8 },
    { value: 3, p: 1 },
  ]);
});

Deno.test("readTimeline: per GPU, per pool, cluster rates; optional router_queue", async () => {
  const t = await readTimeline(join(FIXTURE, "timeline.csv"));
  equal(t.samples, 12);
  equal(t.aggregated, false);
  equal(t.stepMs, 1000, "median interval");
  deepEqual(t.t, [0, 1, 2, 3, 4, 5, 6, 7, 7.5, 8, 8.5, 9]);
  deepEqual(t.gpus.map((g) => [g.gpu, g.pool]), [[0, "prefill"], [1, "decode,fast"], [
    2,
    "decode,fast",
  ]]);
  deepEqual(t.pools.map((p) => [p.pool, p.gpus]), [["prefill", 1], ["decode,fast", 2]]);
  const decode = t.pools[1];
  for (let i = 0; i < t.t.length; i++) {
    const mean = (t.gpus[1].waiting[i]! + t.gpus[2].waiting[i]!) / 2;
    equal(decode.waiting[i], Math.round(mean * 100) / 100);
  }
  ok(t.cluster);
  const lines = Deno.readTextFileSync(join(FIXTURE, "timeline.csv")).trim().split("\n");
  const migrations = lines.filter((l) => l.includes(",-1,")).map((l) => Number(l.split(",")[7]));
  // 1 s intervals, then 0.5 s ones: a count per interval becomes a rate per second.
  deepEqual(
    t.cluster.migrationsPerS,
    migrations.map((m, i) => i < 8 ? m : m * 2),
  );
  ok(t.cluster.routerQueue.every((v) => v === null), "no router_queue column: no values");
});

Deno.test("readTimeline: long runs are averaged into at most the point budget", async () => {
  const path = join(tmp, "long-timeline.csv");
  const rows = ["time_ms,gpu,pool,waiting,kv_usage,completed,migrations,sheds,router_queue"];
  for (let s = 0; s < 1000; s++) {
    rows.push(`${s * 1000},0,shared,${s % 2 === 0 ? 2 : 4},0.5,0,0,0,0`);
    rows.push(`${s * 1000},-1,cluster,0,0,3,1,0,7`);
  }
  Deno.writeTextFileSync(path, rows.join("\n") + "\n");
  const t = await readTimeline(path, 100);
  equal(t.aggregated, true);
  equal(t.t.length, 100);
  ok(Math.abs(t.stepMs - 9990) < 1e-6);
  ok(t.gpus[0].waiting.every((w) => w === 3), "bucket means");
  ok(t.cluster!.routerQueue.every((q) => q === 7));
  const completed = t.cluster!.completedPerS.reduce((a, b) => a + b, 0) * t.stepMs / 1000;
  ok(Math.abs(completed - 3000) < 1, `rates keep the total: ${completed}`);
});

Deno.test("readTimeline: a GPU that changes pool is an error naming the line", async () => {
  const path = join(tmp, "pool-change.csv");
  Deno.writeTextFileSync(
    path,
    "time_ms,gpu,pool,waiting,kv_usage\n0,0,prefill,0,0\n1000,0,decode,0,0\n",
  );
  let message = "";
  await readTimeline(path).catch((e) => message = e.message);
  equal(message, `'${path}' line 3: GPU 0 is in pool 'decode' here but 'prefill' before`);
});

Deno.test("loadRuns: a driven run dir without config.json", async () => {
  const [run] = await loadRuns([FIXTURE]);
  equal(run.name, "live");
  equal(run.config, null);
  equal(run.configPath, null);
  equal(run.summary.run.workload, "drive:chat");
  equal(run.requests.rows, 60);
  equal(run.timeline.samples, 12);
});

Deno.test("uniqueLabels and baselineIndex", () => {
  const runs = [
    { dir: "runs/a/baseline", label: "baseline" },
    { dir: "runs/a/optimized", label: "optimized" },
    { dir: "runs/b/baseline", label: "baseline" },
    { dir: "x/b/baseline", label: "baseline" },
  ];
  const names = uniqueLabels(runs);
  deepEqual(names, [
    "a/baseline",
    "optimized",
    "b/baseline (runs/b/baseline)",
    "b/baseline (x/b/baseline)",
  ]);
  const named = runs.map((r, i) => ({ ...r, name: names[i] }));
  equal(baselineIndex(named, undefined), 0);
  equal(baselineIndex(named, "optimized"), 1);
  equal(baselineIndex(named, "a/baseline"), 0);
  equal(baselineIndex(named, "runs/b/baseline/"), 2);
  throws(() => baselineIndex(named, "baseline"), /--baseline 'baseline' matches more than one run/);
  throws(() => baselineIndex(named, "nope"), /--baseline 'nope' matches no run: give one of/);
});
