#!/usr/bin/env bash
# Live: what open event streams cost the requests beside them, and how fast a write reaches a
# stream on another server:
#   bench/live.sh [streams] [rounds]
# One server of this checkout with ONE worker (2 threads) on :4600 and another on :4601, on one
# fresh PostgreSQL database and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/14);
# BENCH_PORT (the first port), BENCH_DATABASE and BENCH_STATE let runs beside others not clash.
# 1. A task read (wrk, 16 connections, 6 s) with no stream open, then with `streams` (2,000)
#    open on the same worker, interleaved over `rounds`: req/s, CPU per request, p50/p99.
#    The streams are measured once every one of them is open and has stepped (17 s after the
#    last opened). Then, paired: the same read on both servers at once, the one holding the
#    streams and the other holding none, so that a neighbour's load on a shared machine falls
#    on both sides alike (each side gets about half the cores: compare the two, not with the
#    rows above).
# 2. The worker's memory (RSS) before and after the streams opened: bytes per stream; and the
#    CPU the worker spends on the open streams alone (heartbeats) over 15 s with no requests.
# 3. 200 writes on :4601, each timed from its answer until the event arrives on a stream of
#    :4600 (the other process): wake-up p50/p99.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
ensure_wrk
work=${BENCH_STATE:-/tmp/todo-bench-live}
streams=${1:-2000}
rounds=${2:-2}
mkdir -p "$work"
cd "$root"
port=${BENCH_PORT:-4600} other_port=$((${BENCH_PORT:-4600} + 1))
fresh_database "${BENCH_DATABASE:-todo_live}" "$work/migrate.log"
export RATELIMIT_STORAGE_URI=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14}
export CONNECTIONS_PER_ADDRESS=0 LIVE_PER_USER=10000 WEB_CONCURRENCY=1
PORT=$port .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app >"$work/server.log" 2>&1 &
server=$!
PORT=$other_port .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app >"$work/other.log" 2>&1 &
other=$!
holder=
trap 'kill $server $other $holder 2>/dev/null' EXIT
for each in $port $other_port; do
  for _ in $(seq 60); do curl -sf "http://127.0.0.1:$each/healthz" >/dev/null && break; sleep 0.5; done
done
worker=$(pgrep -P "$server" | head -1)
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$worker/status"; }

sign_in http://127.0.0.1:$port live@example.com
task=$(create_tasks http://127.0.0.1:$port "$TOKEN" 20)
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$work/auth.lua"
url=http://127.0.0.1:$port/api/$USER/tasks/$task

echo "round streams req/s cpu_us_per_request db_us_per_request p50 p99"
for round in $(seq "$rounds"); do
  echo "$round 0 $(measure "$port" "$work/auth.lua" "$url")"
  before=$(rss_kib)
  rm -f "$work/holder.log"  # the last round's "open" line would end the wait below at once
  .venv/bin/python bench/live_clients.py hold "$port" "$USER" "$TOKEN" "$streams" >"$work/holder.log" &
  holder=$!
  for _ in $(seq 600); do grep -q '^open' "$work/holder.log" && break; sleep 0.5; done
  echo "$round $(head -1 "$work/holder.log")"
  sleep 2
  after=$(rss_kib)
  idle=$(cpu_ticks "$port")
  sleep 15
  idle=$(($(cpu_ticks "$port") - idle))
  echo "$round idle: $((idle * 100 / $(getconf CLK_TCK) / 15))% of a core for $streams open streams"
  echo "$round $streams $(measure "$port" "$work/auth.lua" "$url")"
  wrk -t1 -c16 -d6s --latency -s "$work/auth.lua" "${url/:$port/:$other_port}" >"$work/paired.txt" &
  without=$!
  with=$(latency_cells 16 6 "$work/auth.lua" "$url")
  wait "$without"
  echo "$round paired: with $streams streams $with | without $(wrk_cells <"$work/paired.txt")"
  echo "$round memory: $(((after - before) * 1024 / streams)) bytes per stream (RSS $before -> $after KiB)"
  kill "$holder"
  wait "$holder" 2>/dev/null || true
  holder=
  sleep 2
done
.venv/bin/python bench/live_clients.py wake "$other_port" "$port" "$USER" "$TOKEN" 200
