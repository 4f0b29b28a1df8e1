/**
 * Recorded simulator sweep for router replicas and prefix knowledge (bench/REPLICAS.md):
 *
 * 1. Replicas: R = 1, 2, 4, 8 router replicas x sync delay D = 0, 10, 100, 1000 ms and none,
 *    on the default scenario and the Mooncake conversation trace (4 prefill + 4 decode GPUs),
 *    with approximate prefix knowledge (each replica's own mirror, as SGLang's gateways keep
 *    their own trees) for predictive, sglang-cache-aware and round robin, and with precise
 *    knowledge (KV events, which every replica reads itself) for predictive.
 * 2. Knowledge: precise (KV events 0, 100 and 1000 ms late) vs approximate on the Mooncake
 *    conversation trace with vLLM's 16-token engine blocks, at the default prefix cache and at
 *    a third of it, for predictive, llm-d and dynamo-kv.
 * 3. Pressure: the same four kinds of knowledge on the league's `shared-prefix-pressure`
 *    scenario (src/league/suite.json: llm-d's precise-scheduling benchmark shape, a working set
 *    of 73% of the fleet's KV; docs/SIMULATOR.md), for predictive, llm-d, dynamo-kv,
 *    sglang-cache-aware and round robin.
 *
 * The engines' prefix caches are whatever `engine.prefixCachePool` defaults to (shared: vLLM's
 * one block pool) unless `--prefix-cache-pool` says otherwise.
 *
 *   deno run -A bench/replicas.ts [--only replicas,knowledge,pressure] [--jobs N]
 *     [--max-requests N] [--prefix-cache-pool shared|reserved]
 *
 * Prints markdown tables and writes artifacts/replicas/results.json.
 */
import { parseArgs } from "node:util";
import { resolveSimConfig, type SimConfig } from "../src/sim/config.ts";
import { runSpecs } from "../src/sim/parallel.ts";
import type { RunSpec } from "../src/sim/run_spec.ts";
import type { PolicyName } from "../src/core/policies.ts";
import type { RunSummary } from "../src/metrics/run_metrics.ts";
import { writeJson } from "../src/io/json_file.ts";
import { loadSuite } from "../src/league/suite.ts";

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    jobs: { type: "string", default: "2" },
    "max-requests": { type: "string" },
    "prefix-cache-pool": { type: "string" },
  },
});
const maxRequests = values["max-requests"] ? Number(values["max-requests"]) : undefined;
const PARTS = ["replicas", "knowledge", "pressure"];
const only = values.only ? values.only.split(",") : PARTS;
for (const part of only) {
  if (!PARTS.includes(part)) {
    throw new Error(`--only: unknown part '${part}' (${PARTS.join(", ")})`);
  }
}
const pool = values["prefix-cache-pool"];
/** Layered over every run (after its scenario): the engines' prefix-cache pool, if given. */
const poolLayer = pool === undefined ? {} : { engine: { prefixCachePool: pool } };

interface Row {
  readonly table: string;
  readonly scenario: string;
  readonly cell: Record<string, string | number>;
  readonly policy: PolicyName;
  readonly spec: RunSpec;
}

function mooncake(extra: object = {}): unknown {
  return {
    layout: "conditional",
    prefillGpus: 4,
    decodeGpus: 4,
    workload: {
      kind: "trace",
      format: "mooncake",
      path: "data/traces/mooncake_conversation.jsonl.gz",
      options: { rateScale: 1, ...(maxRequests && { maxRequests }) },
    },
    ...extra,
  };
}

const scenarios: Record<string, () => unknown> = {
  default:
    () => (maxRequests
      ? { workload: { kind: "preset", name: "chat", overrides: { requests: maxRequests } } }
      : {}),
  "mooncake-conversation 4+4": () => mooncake(),
};

const rows: Row[] = [];
function add(
  table: string,
  scenario: string,
  cell: Row["cell"],
  policy: PolicyName,
  layers: unknown[],
) {
  const config: SimConfig = resolveSimConfig(...layers, poolLayer);
  const label = `${table}/${scenario}/${JSON.stringify(cell)}/${policy}`;
  rows.push({
    table,
    scenario,
    cell,
    policy,
    spec: { config, choice: { label, policy }, dir: null },
  });
}

const delays: (number | null)[] = [0, 10, 100, 1000, null];
if (only.includes("replicas")) {
  for (const [scenario, base] of Object.entries(scenarios)) {
    const cells: { replicas: number; syncDelayMs: number | null }[] = [{
      replicas: 1,
      syncDelayMs: 0,
    }];
    for (const replicas of [2, 4, 8]) {
      for (const d of delays) cells.push({ replicas, syncDelayMs: d });
    }
    for (const { replicas, syncDelayMs } of cells) {
      const cell = { R: replicas, D: syncDelayMs === null ? "none" : syncDelayMs };
      const router = { replicas, syncDelayMs };
      for (const policy of ["predictive", "sglang-cache-aware", "round-robin"] as const) {
        add("replicas-approximate", scenario, cell, policy, [base(), {
          router: { ...router, prefixKnowledge: "approximate" },
        }]);
      }
      add("replicas-precise", scenario, cell, "predictive", [base(), { router }]);
    }
  }
}
const knowledgeKinds: [string, object][] = [
  ["approximate", { prefixKnowledge: "approximate" }],
  ["precise", { prefixKnowledge: "precise", kvEventDelayMs: 0 }],
  ["precise +100 ms", { prefixKnowledge: "precise", kvEventDelayMs: 100 }],
  ["precise +1000 ms", { prefixKnowledge: "precise", kvEventDelayMs: 1000 }],
];
if (only.includes("knowledge")) {
  for (
    const [scenario, fraction] of [["mooncake-conversation 4+4", 0.3], [
      "mooncake-conversation 4+4, prefix cache 0.1",
      0.1,
    ]] as const
  ) {
    for (const [name, router] of knowledgeKinds) {
      for (const policy of ["predictive", "llm-d", "dynamo-kv"] as const) {
        add("knowledge", scenario, { knowledge: name }, policy, [mooncake({
          engine: { prefixBlockTokens: 16, prefixCacheFraction: fraction },
          router,
        })]);
      }
    }
  }
}

if (only.includes("pressure")) {
  const name = "shared-prefix-pressure";
  const scenario = (await loadSuite()).scenarios.find((s) => s.name === name)!;
  const cap = maxRequests === undefined ? {} : { workload: { requests: maxRequests } };
  const policies = ["predictive", "llm-d", "dynamo-kv", "sglang-cache-aware", "round-robin"];
  for (const [kind, router] of knowledgeKinds) {
    for (const policy of policies as PolicyName[]) {
      add("pressure", name, { knowledge: kind }, policy, [scenario.config, cap, { router }]);
    }
  }
}

const started = performance.now();
const runs = await runSpecs(rows.map((r) => r.spec), { jobs: Number(values.jobs) });
const wallS = (performance.now() - started) / 1000;

const fmt = (n: number, d = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
const metrics = (s: RunSummary) => ({
  goodput: s.goodput.fraction,
  ttftP90: s.ttftMs.p90,
  ttftP95: s.ttftMs.p95,
  hitRate: s.prefix.hitRate,
  migrations: s.migrations,
  ttftP50: s.ttftMs.p50,
  tpotP50: s.tpotMs.p50,
  shed: s.requests.shed,
  preemptions: s.preemptions,
});
const results = rows.map((r, i) => ({
  table: r.table,
  scenario: r.scenario,
  ...r.cell,
  policy: r.policy,
  ...metrics(runs[i].summary),
  wallS: runs[i].wallMs / 1000,
}));
Deno.mkdirSync("artifacts/replicas", { recursive: true });
writeJson("artifacts/replicas/results.json", { wallS, maxRequests: maxRequests ?? null, results });

console.log(`${rows.length} runs in ${wallS.toFixed(0)} s (--jobs ${values.jobs})\n`);
for (const table of [...new Set(results.map((r) => r.table))]) {
  if (table === "pressure") {
    // One row per policy and knowledge: five policies side by side would be 21 columns.
    console.log(`### pressure: shared-prefix-pressure\n`);
    const head = [
      "policy",
      "knowledge",
      "goodput",
      "TTFT p50 (ms)",
      "TTFT p90 (ms)",
      "TTFT p95 (ms)",
      "TPOT p50 (ms)",
      "hit rate",
      "shed",
      "preemptions",
    ];
    console.log(`| ${head.join(" | ")} |\n|${head.map(() => " --- ").join("|")}|`);
    const sel = results.filter((r) => r.table === table);
    for (const policy of [...new Set(sel.map((r) => r.policy))]) {
      for (const r of sel.filter((x) => x.policy === policy)) {
        const cells = [
          policy,
          String((r as Record<string, unknown>).knowledge),
          fmt(r.goodput, 3),
          fmt(r.ttftP50),
          fmt(r.ttftP90),
        ];
        cells.push(fmt(r.ttftP95), fmt(r.tpotP50, 1), fmt(r.hitRate, 3), fmt(r.shed));
        console.log(`| ${[...cells, fmt(r.preemptions)].join(" | ")} |`);
      }
    }
    console.log();
    continue;
  }
  for (
    const scenario of [...new Set(results.filter((r) => r.table === table).map((r) => r.scenario))]
  ) {
    const sel = results.filter((r) => r.table === table && r.scenario === scenario);
    const policies = [...new Set(sel.map((r) => r.policy))];
    const cellKeys = Object.keys(rows.find((r) => r.table === table)!.cell);
    const cols = !table.startsWith("replicas")
      ? ["goodput", "TTFT p90 (ms)", "TTFT p95 (ms)", "hit rate"]
      : ["goodput", "TTFT p95 (ms)", "hit rate"];
    console.log(`### ${table}: ${scenario}\n`);
    const head = [...cellKeys, ...policies.flatMap((p) => cols.map((c) => `${p} ${c}`))];
    console.log(`| ${head.join(" | ")} |`);
    console.log(`|${head.map(() => " --- ").join("|")}|`);
    const cellsSeen = [
      ...new Set(
        sel.map((r) => cellKeys.map((k) => (r as Record<string, unknown>)[k]).join("\u0000")),
      ),
    ];
    for (const c of cellsSeen) {
      const line = sel.filter((r) =>
        cellKeys.map((k) => (r as Record<string, unknown>)[k]).join("\u0000") === c
      );
      const vals = policies.flatMap((p) => {
        const r = line.find((x) => x.policy === p)!;
        const all = [fmt(r.goodput, 3), fmt(r.ttftP90), fmt(r.ttftP95), fmt(r.hitRate, 3)];
        return table.startsWith("replicas") ? [all[0], all[2], all[3]] : all;
      });
      console.log(`| ${[...c.split("\u0000"), ...vals].join(" | ")} |`);
    }
    console.log();
  }
}
