#!/usr/bin/env bash
# Router overhead and throughput: the same closed-loop streams (bench/router_overhead.ts)
# straight at two emulators (the client round-robins), through nginx as a plain round-robin
# reverse proxy, and through pdroute (round robin, and the predictive policy), at each
# concurrency. MODE=ab (default): each proxy A/B against direct in one run (added latency);
# MODE=solo: each target alone (throughput). Needs nginx (Debian: apt-get install -y nginx);
# CI does not run this.
# Results: one JSON line per run on stdout; bench/ROUTER_RESULTS.md records them.
#
#   bench/router_overhead.sh [concurrency ...]     (default: 100 500)
# Environment: SECONDS_PER_RUN (10), MAX_TOKENS (16), PROMPT_CHARS (2000), SPEED (1: the
# emulators' --speed, and the router's --engine-speed), DENO (deno), VARIANTS (the pdroute
# variants, space-separated policy/relay[/workers]; default "round-robin/inspect
# predictive/inspect predictive/passthrough"; a workers count > 1 runs `serve --workers N`,
# whose replicas sync through a nats-server this script starts: Debian's nats-server package).
set -euo pipefail
cd "$(dirname "$0")/.."

LEVELS=("${@:-100 500}")
[ $# -eq 0 ] && LEVELS=(100 500)
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
MAX_TOKENS=${MAX_TOKENS:-16}
PROMPT_CHARS=${PROMPT_CHARS:-2000}
SPEED=${SPEED:-1}
MODE=${MODE:-ab}
DENO=${DENO:-deno}
VARIANTS=${VARIANTS:-round-robin/inspect predictive/inspect predictive/passthrough}
E1=18401 E2=18402 NGINX=18410 ROUTER=18420 NATS=18430
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# exec: a backgrounded function is a subshell; without exec, $! would be the subshell, and
# killing it would leave deno running.
run() { exec "$DENO" run -A --unstable-no-legacy-abort src/cli/main.ts "$@"; }
for port in $E1 $E2 $NGINX $ROUTER $NATS; do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "port $port is already in use (a leftover run?): stop it first" >&2
    exit 1
  fi
done
wait_up() { for _ in $(seq 100); do curl -sf "$1/health" >/dev/null && return; sleep 0.1; done; echo "$1 did not come up" >&2; exit 1; }

# Two engines, one process each (as two vLLM instances would be).
run emulate --port $E1 --speed "$SPEED" >"$work/e1.log" 2>&1 & pids+=($!)
run emulate --port $E2 --speed "$SPEED" >"$work/e2.log" 2>&1 & pids+=($!)
wait_up http://127.0.0.1:$E1
wait_up http://127.0.0.1:$E2

# nginx: round robin, streaming passthrough (no buffering), keep-alive to the engines.
mkdir -p "$work/nginx/logs"
cat >"$work/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  upstream engines { server 127.0.0.1:$E1; server 127.0.0.1:$E2; keepalive 512; }
  server {
    listen 127.0.0.1:$NGINX;
    location / {
      proxy_pass http://engines;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 600s;
    }
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx.conf"
wait_up http://127.0.0.1:$NGINX

# NATS for the workers' replica sync, when a variant has workers.
if [[ " $VARIANTS" =~ /[a-z]+/[0-9]+ ]]; then
  nats-server -a 127.0.0.1 -p $NATS >"$work/nats.log" 2>&1 & natspid=$!; pids+=($natspid)
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$NATS) 2>/dev/null && break; sleep 0.1; done
fi

client() {
  "$DENO" run -A bench/router_overhead.ts --seconds "$SECONDS_PER_RUN" --max-tokens "$MAX_TOKENS" \
    --prompt-chars "$PROMPT_CHARS" "$@"
}

# pdroute variants: policy/relay.
first=1
for variant in $VARIANTS; do
  IFS=/ read -r policy relay workers <<<"$variant"
  workers=${workers:-1}
  extra=()
  label="pdroute-$policy-$relay"
  if [ "$workers" -gt 1 ]; then
    extra=(--workers "$workers" --sync nats://127.0.0.1:$NATS)
    label="$label-w$workers"
  fi
  run serve --port $ROUTER --both http://127.0.0.1:$E1,http://127.0.0.1:$E2 \
    --disaggregation never --policy "$policy" --relay "$relay" --engine-speed "$SPEED" \
    "${extra[@]}" >"$work/router-$label.log" 2>&1 &
  rpid=$!
  pids+=($rpid)
  wait_up http://127.0.0.1:$ROUTER
  # Every worker up and synced with the others (a worker answers /health before its peers).
  if [ "$workers" -gt 1 ]; then
    for _ in $(seq 100); do
      [ "$(grep -c 'sync nats.*(connected)' "$work/router-$label.log")" -ge "$workers" ] && break
      sleep 0.1
    done
    sleep 1
  fi
  # Make sure this is the router just started, with the variant asked for.
  curl -sf http://127.0.0.1:$ROUTER/router/status | grep -q "\"policy\":\"$policy\",\"relay\":\"$relay\"" ||
    { echo "the router on $ROUTER is not $variant" >&2; exit 1; }
  direct=(--url http://127.0.0.1:$E1 --url http://127.0.0.1:$E2)
  for c in "${LEVELS[@]}"; do
    if [ "$MODE" = ab ]; then
      [ $first = 1 ] &&
        client --label nginx --concurrency "$c" "${direct[@]}" --via http://127.0.0.1:$NGINX
      client --label "$label" --concurrency "$c" "${direct[@]}" \
        --via http://127.0.0.1:$ROUTER
    else
      if [ $first = 1 ]; then
        client --label direct --concurrency "$c" "${direct[@]}"
        client --label nginx --concurrency "$c" --url http://127.0.0.1:$NGINX
      fi
      client --label "$label" --concurrency "$c" --url http://127.0.0.1:$ROUTER
    fi
  done
  first=0
  if [ "$workers" -gt 1 ]; then
    # What the sync cost: the workers' sync messages and the NATS server's CPU so far.
    for _ in 1 2 3 4 5 6; do curl -s http://127.0.0.1:$ROUTER/metrics; done |
      grep -E '^pdroute_sync_messages_sent_total' | sort -u >&2 || true
    echo "nats-server CPU seconds so far: $(ps -o times= -p "$natspid")" >&2
  fi
  kill $rpid 2>/dev/null || true
  wait $rpid 2>/dev/null || true
done
