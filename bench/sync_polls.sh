#!/usr/bin/env bash
# What a synced client's idle polls cost against a single-task GET, interleaved in one run:
#   bench/sync_polls.sh [rounds]
# One server of this checkout (gunicorn.conf.py, 2 workers) on :4590 and a fresh PostgreSQL
# database; a user with 20 tasks. Scenarios: `get` (GET one task), `feed_empty` (GET
# /changes?since=<the current cursor>: nothing new, one indexed read), `list304` (GET /tasks
# with If-None-Match of the list's ETag: 304, one indexed read) and `list20` (the 20-task list,
# for scale). Prints req/s, CPU per request and p50/p99 per round (bench/RESULTS.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
ensure_wrk
work=${BENCH_STATE:-/tmp/todo-bench-sync}
rounds=${1:-3}
port=4590
base=http://127.0.0.1:$port
mkdir -p "$work"
cd "$root"
fresh_database todo_sync "$work/migrate.log"
PORT=$port .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 60); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.5; done

sign_in "$base" polls@example.com
task=$(create_tasks "$base" "$TOKEN" 20)
auth="Authorization: Bearer $TOKEN"
cursor=$(curl -sf "$base/api/$USER/changes" -H "$auth" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["next"])')
etag=$(curl -sfi "$base/api/$USER/tasks" -H "$auth" | tr -d '\r' |
  awk 'tolower($1) == "etag:" {print $2}')
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/$USER/tasks" -H "$auth" -H "If-None-Match: $etag")" = 304 ]
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$work/auth.lua"
{ cat "$work/auth.lua"; printf "wrk.headers[\"If-None-Match\"] = '%s'\n" "$etag"; } >"$work/list304.lua"

echo "round scenario req/s cpu_us_per_request db_us_per_request p50 p99"
for round in $(seq "$rounds"); do
  echo "$round get $(measure $port "$work/auth.lua" "$base/api/$USER/tasks/$task")"
  echo "$round feed_empty $(measure $port "$work/auth.lua" "$base/api/$USER/changes?since=$cursor")"
  echo "$round list304 $(measure $port "$work/list304.lua" "$base/api/$USER/tasks")"
  echo "$round list20 $(measure $port "$work/auth.lua" "$base/api/$USER/tasks")"
done
