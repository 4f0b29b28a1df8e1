/**
 * The league on a small slice (the full league is a documented command with recorded results,
 * bench/LEAGUE.md): two scenarios of the shipped suite capped at 1,500 requests, every policy,
 * two seeds. It checks the key orderings the full league records (predictive's SLO goodput and
 * TTFT p95 against every peer on the default chat scenario and on the code trace at 8x in dual
 * pools), the artifacts (one run directory per scenario, seed and policy; league.json and
 * league.html), determinism, and bad input.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { main } from "../../src/cli/main.ts";
import { POLICY_NAMES } from "../../src/core/policies.ts";
import type { LeagueResult } from "../../src/league/run.ts";
import { metricsOf } from "../../src/league/standings.ts";
import { fmtMetric } from "../../src/report/league_page.ts";
import { captured } from "../_capture.ts";

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { result, out, err } = await captured(() => main(args));
  return { code: result, out, err };
}

const SLICE = ["--scenarios", "chat,azure-code-dual-8x", "--max-requests", "1500", "--seeds", "2"];

Deno.test("league slice: predictive leads every peer on goodput and TTFT p95; artifacts; determinism", async () => {
  const out = await Deno.makeTempDir();
  const r = await cli(
    "league",
    ...SLICE,
    "--jobs",
    "1",
    "--out",
    out,
    "--league-id",
    "t",
    "--json",
  );
  equal(r.code, 0, r.err);
  const league: LeagueResult = JSON.parse(r.out);
  deepEqual(league.scenarios.map((s) => s.scenario), ["chat", "azure-code-dual-8x"]);
  for (const s of league.scenarios) {
    deepEqual(s.standings.map((st) => st.policy), [...POLICY_NAMES]);
    const p = s.standings.find((st) => st.policy === "predictive")!;
    for (const other of s.standings.filter((st) => st.policy !== "predictive")) {
      ok(
        p.median.goodput > other.median.goodput,
        `${s.scenario}: goodput ${p.median.goodput} vs ${other.policy} ${other.median.goodput}`,
      );
      ok(
        p.median.ttftP95 < other.median.ttftP95,
        `${s.scenario}: TTFT p95 ${p.median.ttftP95} vs ${other.policy} ${other.median.ttftP95}`,
      );
    }
    equal(s.targets.length, 3);
    ok(s.standings.every((st) => st.seeds === 2 && st.min.goodput <= st.max.goodput));
  }
  for (const policy of POLICY_NAMES) {
    ok((await Deno.stat(`${out}/t/chat/seed2/${policy}/summary.json`)).isFile, policy);
  }
  ok((await Deno.stat(`${out}/t/chat/seed1/config.json`)).isFile);
  const html = await Deno.readTextFile(`${out}/t/league.html`);
  match(html, /pdroute league/);
  match(html, /azure-code-dual-8x/);
  const saved: LeagueResult = JSON.parse(await Deno.readTextFile(`${out}/t/league.json`));
  deepEqual(saved.scenarios, league.scenarios);
  // Same seeds, same inputs: the same standings, on worker threads too.
  const again = await cli("league", ...SLICE, "--jobs", "2", "--no-artifacts", "--json");
  equal(again.code, 0, again.err);
  deepEqual(JSON.parse(again.out).scenarios, league.scenarios);
});

Deno.test("league: the table names the best per column and predictive's targets", async () => {
  const r = await cli(
    "league",
    "--scenarios",
    "chat",
    "--max-requests",
    "600",
    "--seeds",
    "1",
    "--policies",
    "predictive,round-robin",
    "--no-artifacts",
  );
  equal(r.code, 0, r.err);
  match(r.out, /chat: the default scenario/);
  match(r.out, /│ predictive +│/);
  match(r.out, /(met|MISSED) +SLO goodput best/);
  match(r.out, /predictive's targets: \d of 3 met/);
});

Deno.test("league: bad input exits 2 with one line naming it", async () => {
  const suite = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    suite,
    JSON.stringify({ scenarios: [{ name: "x", reason: "r", config: { gpus: -1 } }] }),
  );
  const dup = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    dup,
    JSON.stringify({
      scenarios: [{ name: "a", reason: "r", config: {} }, { name: "a", reason: "r", config: {} }],
    }),
  );
  const cases: [string[], RegExp][] = [
    [["league", "--scenarios", "nope"], /unknown scenario 'nope': the suite has chat/],
    [["league", "--policies", "magic"], /unknown policy 'magic'/],
    [["league", "--seeds", "0"], /expected a positive integer/],
    [["league", "--suite", suite], /scenario 'x'.*'gpus'/],
    [["league", "--suite", dup], /scenario name 'a' repeats/],
    [["league", "--suite", "/nonexistent/s.json"], /\/nonexistent\/s\.json/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(...args, "--no-artifacts");
    equal(r.code, 2, `${args.join(" ")}: exit ${r.code}, ${r.err}`);
    match(r.err, message, args.join(" "));
  }
});

Deno.test("league: a run that served nothing ranks last on latency, not first at 0 ms", () => {
  const fixture = JSON.parse(
    Deno.readTextFileSync("tests/fixtures/report/driven-run/summary.json"),
  );
  const none = structuredClone(fixture);
  none.requests.completed = 0;
  none.ttftMs.p95 = 0;
  const m = metricsOf(none);
  equal(m.ttftP95, Infinity);
  equal(m.tpotP99, Infinity);
  equal(fmtMetric("ttftP95", m.ttftP95), "none served");
  equal(metricsOf(fixture).ttftP95, fixture.ttftMs.p95);
});
