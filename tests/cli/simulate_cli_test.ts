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
