#!/usr/bin/env bash
# The fleet-scale table of bench/RESULTS.md (issue 15): one process per cell, Poisson at 5 req/s
# per GPU, each line the JSON printed by bench/sim_scale.ts. Usage: bash bench/sim_scale.sh [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-60000}
for gpus in 16 128 512 1024 4096; do
  for mode in baseline optimized; do
    echo "load $(cut -d' ' -f1 /proc/loadavg)" >&2
    deno run -A bench/sim_scale.ts "$gpus" "$requests" "$mode"
  done
done
