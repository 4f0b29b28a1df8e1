#!/usr/bin/env bash
# The live league: every policy of the table (src/core/policies.ts) routing the same open-loop
# chat workload through a router the driver starts in front of two emulators, at each rate,
# REPEATS times; then the medians (with ranges) of TTFT p95/p99, TPOT p99 and SLO goodput per
# policy and rate. bench/ROUTER_RESULTS.md ("Live league") records a run.
#
#   bench/live_league.sh [rate ...]            (default: 8 16)
# Environment: REPEATS (3), REQUESTS_PER_SEC_SECONDS (25: requests = rate x this), SPEED (1: the
# emulators' --speed and the driver's --time-scale), POLICIES (all), DENO (deno), OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=("${@:-8 16}")
[ $# -eq 0 ] && RATES=(8 16)
REPEATS=${REPEATS:-3}
SECS=${REQUESTS_PER_SEC_SECONDS:-25}
SPEED=${SPEED:-1}
DENO=${DENO:-deno}
POLICIES=${POLICIES:-predictive,round-robin,least-loaded,power-of-two,llm-d,sglang-cache-aware,dynamo-kv}
OUT=${OUT:-artifacts/live-league}
E1=18501 E2=18502
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
run() { exec "$DENO" run -A --unstable-no-legacy-abort src/cli/main.ts "$@"; }
wait_up() { for _ in $(seq 100); do curl -sf "$1/health" >/dev/null && return; sleep 0.1; done; echo "$1 did not come up" >&2; exit 1; }
mkdir -p "$OUT"
run emulate --port $E1 --speed "$SPEED" >"$OUT/e1.log" 2>&1 & pids+=($!)
run emulate --port $E2 --speed "$SPEED" >"$OUT/e2.log" 2>&1 & pids+=($!)
wait_up http://127.0.0.1:$E1
wait_up http://127.0.0.1:$E2
for rate in "${RATES[@]}"; do
  for rep in $(seq "$REPEATS"); do
    echo "rate $rate, repeat $rep" >&2
    "$DENO" run -A --unstable-no-legacy-abort src/cli/main.ts drive \
      --engines http://127.0.0.1:$E1,http://127.0.0.1:$E2 --policies "$POLICIES" \
      --workload chat --requests $((rate * SECS)) --rate "$rate" --seed "$rep" \
      --time-scale "$SPEED" --out "$OUT" --run-id "rate$rate-rep$rep" >/dev/null
  done
done
# Medians and ranges per rate and policy, from every run's summary.json.
"$DENO" run -A - "$OUT" <<'TS'
const out = Deno.args[0];
const rows = new Map<string, number[][]>();
for (const run of Deno.readDirSync(out)) {
  if (!run.isDirectory || !run.name.startsWith("rate")) continue;
  const rate = run.name.split("-")[0].slice(4);
  for (const p of Deno.readDirSync(`${out}/${run.name}`)) {
    if (!p.isDirectory) continue;
    const s = JSON.parse(Deno.readTextFileSync(`${out}/${run.name}/${p.name}/summary.json`));
    const key = `${rate}\t${s.run.policy}`;
    const list = rows.get(key) ?? [];
    list.push([s.ttftMs.p95, s.ttftMs.p99, s.tpotMs.p99, s.goodput.fraction]);
    rows.set(key, list);
  }
}
const med = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cell = (xs: number[], d: number) =>
  `${med(xs).toFixed(d)} [${Math.min(...xs).toFixed(d)}..${Math.max(...xs).toFixed(d)}]`;
console.log("| rate (req/s) | policy | runs | TTFT p95 ms | TTFT p99 ms | TPOT p99 ms | SLO goodput |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const [key, list] of [...rows].sort()) {
  const [rate, policy] = key.split("\t");
  const col = (i: number) => list.map((r) => r[i]);
  console.log(
    `| ${rate} | ${policy} | ${list.length} | ${cell(col(0), 0)} | ${cell(col(1), 0)} | ${cell(col(2), 2)} | ${cell(col(3), 3)} |`,
  );
}
TS
