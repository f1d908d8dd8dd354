#!/usr/bin/env bash
# Worker CPU per request, this app's serving worker (:4560) against gunicorn's stock gthread
# (:4561), same app and PostgreSQL database, interleaved: bench/worker_cpu.sh [rounds]
# Prints req/s and the CPU time (user + system) the server's processes spent per request, for
# one task read, the 20-task list and a PUT, 16 connections, 6 s each. CPU per request does not
# depend on how the kernel happened to spread wrk's connections over the workers; req/s does.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
ensure_wrk
work=${BENCH_STATE:-/tmp/todo-bench-cpu}
rounds=${1:-3}
mkdir -p "$work"
cd "$root"
fresh_database todo_cpu "$work/migrate.log"
PORT=4560 .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app >"$work/buffering.log" 2>&1 &
pids=$!
PORT=4561 .venv/bin/gunicorn -c gunicorn.conf.py -k gthread wsgi:app >"$work/gthread.log" 2>&1 &
pids="$pids $!"
trap 'kill $pids 2>/dev/null' EXIT
for _ in $(seq 60); do curl -sf http://127.0.0.1:4561/healthz >/dev/null && curl -sf http://127.0.0.1:4560/healthz >/dev/null && break; sleep 0.5; done

api() { curl -sf -X "$1" "http://127.0.0.1:4560$2" -H 'Content-Type: application/json' "${@:3}"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
credentials='{"email": "cpu@example.com", "password": "password123"}'
api POST /api/auth/signup -d "$credentials" >/dev/null
login=$(api POST /api/auth/login -d "$credentials")
token=$(echo "$login" | field token)
user=$(echo "$login" | field user_id)
for _ in $(seq 20); do
  task=$(api POST "/api/$user/tasks" -H "Authorization: Bearer $token" -d '{"title": "t"}' | field id)
done
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token" >"$work/read.lua"
{ cat "$work/read.lua"; printf 'wrk.method = "PUT"\nwrk.body = %s\n' "'{\"title\": \"put\"}'"
  echo 'wrk.headers["Content-Type"] = "application/json"'; } >"$work/put.lua"

echo "round scenario server req/s cpu_us_per_request db_us_per_request p50 p99"
for round in $(seq "$rounds"); do
  for scenario in "get /api/$user/tasks/$task read" "list /api/$user/tasks read" "put /api/$user/tasks/$task put"; do
    read -r name path script <<<"$scenario"
    for target in buffering:4560 gthread:4561; do
      port=${target#*:}
      echo "$round $name ${target%:*} $(measure "$port" "$work/$script.lua" "http://127.0.0.1:$port$path")"
    done
  done
done
