/**
 * `pdroute simulate` as a user meets it: JSON output that parses, the table and artifact
 * paths, and bad input rejected with exit code 2 and one line naming the problem.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { main } from "../../src/cli/main.ts";
import { captured } from "../_capture.ts";

/** Runs the CLI in-process, capturing what it prints. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { result, out, err } = await captured(() => main(args));
  return { code: result, out, err };
}

Deno.test("simulate --json prints both runs' summaries", async () => {
  const { code, out } = await cli("simulate", "--requests", "300", "--no-artifacts", "--json");
  equal(code, 0);
  const result = JSON.parse(out);
  deepEqual(result.runs.map((r: { label: string }) => r.label), ["baseline", "optimized"]);
  equal(result.runs[1].summary.requests.total, 300);
  equal(result.runs[1].summary.run.policy, "predictive");
});

Deno.test("simulate prints the comparison table and where the artifacts went", async () => {
  const out = await Deno.makeTempDir();
  const r = await cli(
    "simulate",
    "--requests",
    "300",
    "--out",
    out,
    "--run-id",
    "t",
    "--no-report",
  );
  equal(r.code, 0, r.err);
  match(r.out, /TTFT p95 \(ms\)/);
  match(r.out, /SLO goodput/);
  match(r.out, new RegExp(`artifacts: ${out}/t/`));
  for (const label of ["baseline", "optimized"]) {
    for (const file of ["summary.json", "requests.csv", "timeline.csv", "config.json"]) {
      ok((await Deno.stat(`${out}/t/${label}/${file}`)).isFile, `${label}/${file}`);
    }
  }
});

async function badConfig(config: unknown): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(path, JSON.stringify(config));
  return path;
}

Deno.test("bad input: exit code 2 and one line naming the problem", async () => {
  const cases: [string[], RegExp][] = [
    [["simulate", "--seed", "-3"], /--seed.*expected a non-negative integer, got '-3'/],
    [["simulate", "--mode", "fastest"], /--mode.*Allowed choices are baseline, optimized, both/],
    [["simulate", "--prefill-gpus", "0-x"], /expected a GPU count or indexes/],
    [
      ["simulate", "--workload", "nonsense", "--no-artifacts"],
      /unknown workload 'nonsense'; known: chat/,
    ],
    [
      ["simulate", "--trace", "trace.txt", "--no-artifacts"],
      /cannot tell the format of 'trace.txt'/,
    ],
    [["simulate", "--trace", "/nonexistent/t.csv", "--no-artifacts"], /\/nonexistent\/t\.csv/],
    [
      ["simulate", "--config", "/nonexistent/c.json"],
      /cannot read config file '\/nonexistent\/c\.json'/,
    ],
    [
      ["simulate", "--model", "llama-3-70b", "--gpu", "a100", "--no-artifacts"],
      /does not fit on 1 x A100-80GB/,
    ],
    [["simulate", "--rate-scale", "2"], /apply to --trace only/],
    [[
      "simulate",
      "--config",
      await badConfig({ policy: { predictive: { disaggregation: "always" } } }),
      "--no-artifacts",
    ], /'policy.predictive.disaggregation' is set by 'layout' \(conditional -> conditional\)/],
    [
      [
        "simulate",
        "--config",
        await badConfig({ policy: { predictive: { tieWindowMs: -1 } } }),
        "--no-artifacts",
      ],
      /'policy.predictive': 'tieWindowMs' too small/,
    ],
    [
      [
        "simulate",
        "--config",
        await badConfig({ policy: { "round-robin": { tieWindowMs: 1 } } }),
        "--no-artifacts",
      ],
      /'policy.round-robin': unknown field 'tieWindowMs'/,
    ],
    [
      ["simulate", "--config", await badConfig({ policy: { fastest: {} } }), "--no-artifacts"],
      /key 'policy.fastest' must name a policy \(predictive, round-robin/,
    ],
    [["simulate", "--policies", "predictive,magic"], /unknown policy 'magic': expected one of/],
    [
      ["simulate", "--topology", "/nonexistent/topo.json", "--no-artifacts"],
      /nonexistent\/topo\.json/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await cli(...args);
    equal(r.code, 2, `${args.join(" ")}: exit ${r.code}, stderr ${r.err}`);
    match(r.err, message, args.join(" "));
  }
});

async function traceFile(suffix: string, text: string, gzip = false): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: gzip ? `${suffix}.gz` : suffix });
  const bytes = new TextEncoder().encode(text);
  if (!gzip) {
    await Deno.writeFile(path, bytes);
  } else {
    const zipped = new Response(
      new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip")),
    );
    await Deno.writeFile(path, new Uint8Array(await zipped.arrayBuffer()));
  }
  return path;
}

Deno.test("empty input is bad input: exit 2, one line naming the file and the problem", async () => {
  const header = await traceFile(".csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n");
  const empty = await traceFile(".csv", "");
  const blank = await traceFile(".jsonl", "\n\n");
  const emptyGz = await traceFile(".jsonl", "", true);
  const late = await traceFile(
    ".jsonl",
    '{"timestamp": 5000, "input_length": 10, "output_length": 5, "hash_ids": [1]}\n',
  );
  const cases: [string[], RegExp][] = [
    [["--trace", header], new RegExp(`${header}: a header and no rows: no requests`)],
    [["--trace", empty], new RegExp(`${empty}: the file is empty: no requests`)],
    [["--trace", blank], new RegExp(`${blank}: only blank lines: no requests`)],
    [["--trace", emptyGz], new RegExp(`${emptyGz}: the file is empty: no requests`)],
    [
      ["--trace", late, "--duration", "1s"],
      /a duration of 1000 ms leaves no request: the first arrival is at 5000 ms/,
    ],
    [["--trace", late, "--max-requests", "0"], /--max-requests.*expected a positive integer/],
    [["--requests", "0"], /--requests.*expected a positive integer, got '0'/],
    [["--tp", "0"], /--tp.*expected a positive integer/],
  ];
  for (const [args, message] of cases) {
    const r = await cli("simulate", ...args, "--no-artifacts");
    equal(r.code, 2, `${args.join(" ")}: exit ${r.code}, stderr ${r.err}`);
    match(r.err, message, args.join(" "));
    const lines = r.err.split("\n").filter((l) => l !== "");
    ok(lines.length <= 2, `${args.join(" ")}: ${lines.length} lines: ${r.err}`);
    equal(r.out, "", "nothing printed as if it had run");
  }
  const out = await Deno.makeTempDir();
  const r = await cli("simulate", "--trace", header, "--out", out, "--run-id", "empty");
  equal(r.code, 2);
  equal([...Deno.readDirSync(out)].length, 0, "an empty trace leaves no run directory");
});

Deno.test("a gzip-compressed trace reads as the plain one; shipped traces by short name", async () => {
  const rows = Array.from(
    { length: 30 },
    (_, i) =>
      `{"timestamp": ${i * 100}, "input_length": ${
        200 + i
      }, "output_length": 20, "hash_ids": [${i}]}`,
  )
    .join("\n");
  const plain = await traceFile(".jsonl", rows);
  const gz = await traceFile(".jsonl", rows, true);
  const summary = async (trace: string) => {
    const r = await cli(
      "simulate",
      "--trace",
      trace,
      "--mode",
      "optimized",
      "--no-artifacts",
      "--json",
    );
    equal(r.code, 0, r.err);
    const { run: _, ...rest } = JSON.parse(r.out).runs[0].summary;
    return rest;
  };
  deepEqual(await summary(gz), await summary(plain));
  const shipped = await cli(
    "simulate",
    "--trace",
    "azure-code",
    "--max-requests",
    "50",
    "--mode",
    "optimized",
    "--no-artifacts",
    "--json",
  );
  equal(shipped.code, 0, shipped.err);
  equal(JSON.parse(shipped.out).runs[0].summary.requests.total, 50);
});

Deno.test("a bad flag: one error line and one line pointing to --help, exit 2", async () => {
  for (const args of [["simulate", "--bogus"], ["serve", "--port", "x"], ["nonsense"]]) {
    const r = await cli(...args);
    equal(r.code, 2, args.join(" "));
    const lines = r.err.split("\n").filter((l) => l !== "");
    equal(lines.length, 2, `${args.join(" ")}: ${r.err}`);
    match(lines[0], /^error: /);
    match(lines[1], /^run 'pdroute( [a-z]+)? --help' for usage$/);
  }
});

Deno.test("deno task simulate's own permissions run the CLI (no native addon loaded at import)", async () => {
  // The task grants read, write and env only: a static import of a native addon (zeromq needs
  // --allow-ffi) anywhere in the CLI's graph broke the README's first command once.
  const tasks = JSON.parse(await Deno.readTextFile("deno.json")).tasks;
  const argv = (tasks.simulate.command as string).split(" ");
  equal(argv[0], "deno");
  const run = await new Deno.Command(Deno.execPath(), {
    args: [...argv.slice(1), "--requests", "200", "--no-artifacts", "--json"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(run.stderr);
  equal(run.code, 0, err);
  equal(JSON.parse(new TextDecoder().decode(run.stdout)).runs[1].summary.requests.total, 200);
  ok(!/NotCapable|addon/i.test(err), err);
});
