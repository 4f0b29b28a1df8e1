/**
 * `pdroute report`, `pdroute compare` and simulate's report, through the CLI entry point: the
 * page they write, the exports they print, and bad run directories as one `pdroute: ...` line
 * naming the file, exit 2.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { captured, CHART_IDS, copyFixture, FIXTURE, tempDir } from "./_helpers.ts";

const tmp = tempDir();

/** A small simulated comparison, shared by the tests below. */
const sim = await (async () => {
  const { result, out } = await captured(() =>
    main(["simulate", "--requests", "300", "--out", tmp, "--run-id", "sim"])
  );
  equal(result, 0);
  return { dir: join(tmp, "sim"), out };
})();

function pageJson(html: string): { runs: { name: string; ttftMs: { cdf: unknown[] } }[] } {
  const m = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
  ok(m, "the page carries its data");
  return JSON.parse(m[1]);
}

Deno.test("simulate writes report.html for its comparison and prints its path", () => {
  const path = join(sim.dir, "report.html");
  match(sim.out, new RegExp(`^report: ${path}$`, "m"));
  const html = Deno.readTextFileSync(path);
  deepEqual(pageJson(html).runs.map((r) => r.name), ["baseline", "optimized"]);
});

Deno.test("simulate --no-report writes none; --json names the report", async () => {
  const none = await captured(() =>
    main(["simulate", "--requests", "50", "--out", tmp, "--run-id", "quiet", "--no-report"])
  );
  equal(none.result, 0);
  ok(!none.out.includes("report:"));
  let exists = true;
  try {
    Deno.statSync(join(tmp, "quiet", "report.html"));
  } catch {
    exists = false;
  }
  equal(exists, false);
  const json = await captured(() =>
    main(["simulate", "--requests", "50", "--out", tmp, "--run-id", "js", "--json"])
  );
  equal(JSON.parse(json.out).report, join(tmp, "js", "report.html"));
});

Deno.test("pdroute report: one self-contained page, every chart, a simulated and a driven run", async () => {
  const out = join(tmp, "both.html");
  const { result, out: said } = await captured(() =>
    main(["report", sim.dir, FIXTURE, "--out", out, "--baseline", "live", "--title", "A & B"])
  );
  equal(result, 0);
  match(said, new RegExp(`^report: ${out} \\(3 runs, \\d+ KiB\\)$`));
  const html = Deno.readTextFileSync(out);
  ok(html.length < 1_000_000, `${html.length} bytes`);
  match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  ok(!/<(script|img|link|iframe)[^>]+(src|href)=/i.test(html), "nothing loaded from anywhere");
  match(html, /<title>A &amp; B<\/title>/);
  for (const id of CHART_IDS) ok(html.includes(`data-chart="${id}"`), id);
  match(html, /compared with <b>live<\/b> as the baseline/);
  match(html, /<th>baseline \/ live<\/th>/);
  match(html, /No config\.json in tests\/fixtures\/report\/driven-run/);
  match(html, /Where the runs&#39; configs differ|Where the runs' configs differ/);
  const data = pageJson(html);
  deepEqual(data.runs.map((r) => r.name), ["baseline", "optimized", "live"]);
  for (const run of data.runs) ok(run.ttftMs.cdf.length <= 250);
});

Deno.test("pdroute report with one directory writes RUN_DIR/report.html", async () => {
  const dir = copyFixture(join(tmp, "single"));
  const { result, out } = await captured(() => main(["report", dir]));
  equal(result, 0);
  match(out, new RegExp(`^report: ${dir}/report\\.html `));
  ok(Deno.statSync(join(dir, "report.html")).isFile);
});

Deno.test("pdroute report --format csv|json: one row per run", async () => {
  const csv = await captured(() => main(["report", "--format", "csv", sim.dir, FIXTURE]));
  equal(csv.result, 0);
  const lines = csv.out.split("\n");
  equal(lines.length, 4);
  match(lines[0], /^run,dir,label,policy,/);
  match(lines[1], /^baseline,.*sim\/baseline,baseline,round-robin,/);
  match(lines[3], /^live,tests\/fixtures\/report\/driven-run,live,predictive,/);
  const path = join(tmp, "exports", "runs.json");
  const json = await captured(() => main(["report", "--format", "json", "--out", path, sim.dir]));
  equal(json.result, 0);
  equal(json.out, "");
  match(json.err, /wrote .*runs\.json \(2 runs\)/);
  const rows = JSON.parse(Deno.readTextFileSync(path));
  deepEqual(rows.map((r: { run: string }) => r.run), ["baseline", "optimized"]);
  equal(typeof rows[1].ttft_p99_ms, "number");
});

Deno.test("pdroute compare: the side-by-side table with ratios to --baseline", async () => {
  const onlySummary = join(tmp, "only-summary");
  Deno.mkdirSync(onlySummary);
  Deno.copyFileSync(join(FIXTURE, "summary.json"), join(onlySummary, "summary.json"));
  const { result, out } = await captured(() =>
    main(["compare", sim.dir, onlySummary, "--baseline", "optimized"])
  );
  equal(result, 0);
  match(out, /^compare: 3 runs, baseline optimized$/m);
  match(
    out,
    /metric +│ baseline \(round-robin\) +│ optimized \(predictive\) +│ live \(predictive\) +│ baseline \/ optimized +│ live \/ optimized +│/,
  );
  match(out, /TTFT p50 \(ms\) .*x \(.*%\) (better|worse)/);
});

/** Runs the CLI and expects exit 2 with one line "pdroute: <message>". */
async function badInput(args: string[], message: RegExp): Promise<void> {
  const { result, err, out } = await captured(() => main(args));
  equal(result, 2, `exit code for ${args.join(" ")}: ${err}`);
  equal(out, "");
  equal(err.split("\n").length, 1, err);
  match(err, /^pdroute: /);
  match(err, message);
}

Deno.test("bad run directories: exit 2, one line naming the file", async (t) => {
  const broken = (name: string, change: (dir: string) => void) => {
    const dir = copyFixture(join(tmp, "broken"), name);
    change(dir);
    return dir;
  };
  await t.step("missing requests.csv", async () => {
    const dir = broken("no-requests", (d) => Deno.removeSync(join(d, "requests.csv")));
    await badInput(
      ["report", dir],
      new RegExp(
        `cannot read '${dir}/requests\\.csv': no such file \\(a run directory holds summary\\.json, requests\\.csv, timeline\\.csv\\)$`,
      ),
    );
  });
  await t.step("missing summary.json (compare too)", async () => {
    const dir = broken("no-summary", (d) => Deno.removeSync(join(d, "summary.json")));
    await badInput(["report", dir], new RegExp(`'${dir}/summary\\.json': no such file`));
    await badInput(["compare", dir], new RegExp(`'${dir}/summary\\.json': no such file`));
  });
  await t.step("corrupt summary.json", async () => {
    const dir = broken("corrupt", (d) => Deno.writeTextFileSync(join(d, "summary.json"), "{oops"));
    await badInput(
      ["report", "--format", "csv", dir],
      new RegExp(`summary file '${dir}/summary\\.json' is not valid JSON`),
    );
  });
  await t.step("summary.json with a wrong field", async () => {
    const dir = broken("wrong", (d) => {
      const s = JSON.parse(Deno.readTextFileSync(join(d, "summary.json")));
      s.requests.completed = "57";
      Deno.writeTextFileSync(join(d, "summary.json"), JSON.stringify(s));
    });
    await badInput(
      ["compare", dir],
      new RegExp(
        `Invalid summary file '${dir}/summary\\.json': 'requests\\.completed' invalid input: expected number, received string: current value is "57"`,
      ),
    );
  });
  await t.step("a bad number in requests.csv", async () => {
    const dir = broken("bad-number", (d) => {
      const path = join(d, "requests.csv");
      Deno.writeTextFileSync(
        path,
        Deno.readTextFileSync(path).replace("\r\n4,ok,42.0,", "\r\n4,ok,fast,"),
      );
    });
    await badInput(
      ["report", dir],
      new RegExp(`'${dir}/requests\\.csv' line 6: column 'ttft_ms' is not a number: "fast"$`),
    );
  });
  await t.step("a truncated last row", async () => {
    const dir = broken("truncated", (d) => {
      const path = join(d, "requests.csv");
      Deno.writeTextFileSync(path, Deno.readTextFileSync(path) + "60,ok,12");
    });
    await badInput(["report", dir], /requests\.csv' line 62: column '.*' is not a number: ""$/);
  });
  await t.step("timeline.csv without a needed column, or empty", async () => {
    const dir = broken("no-column", (d) => {
      const path = join(d, "timeline.csv");
      Deno.writeTextFileSync(path, Deno.readTextFileSync(path).replace("kv_usage", "kv"));
    });
    await badInput(["report", dir], new RegExp(`'${dir}/timeline\\.csv' has no column 'kv_usage'`));
    const empty = broken("empty", (d) => Deno.writeTextFileSync(join(d, "timeline.csv"), ""));
    await badInput(["report", empty], new RegExp(`'${empty}/timeline\\.csv' is empty`));
  });
  await t.step("no run there, or an unknown baseline", async () => {
    await badInput(["report", join(tmp, "nowhere")], /cannot read run directory '.*nowhere'/);
    const holder = join(tmp, "holder");
    Deno.mkdirSync(holder);
    await badInput(["compare", holder], /holds no run/);
    await badInput(["compare", sim.dir, "--baseline", "x"], /--baseline 'x' matches no run/);
    await badInput(
      ["report", "--format", "csv", "--baseline", "live", FIXTURE],
      /--baseline and --title apply to the HTML report/,
    );
  });
});
