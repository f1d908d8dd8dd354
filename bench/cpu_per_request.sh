#!/usr/bin/env bash
# CPU time the app's server spends per request (user + system, all its processes), and
# PostgreSQL's backends for its database, for a task read, the 20-task list, the 100-task list
# and a PUT: bench/cpu_per_request.sh [rounds]
# One server of this checkout (gunicorn.conf.py, 2 workers) on :4580 and a fresh PostgreSQL
# database; run it on two commits to compare what a change costs, whatever the machine's load
# does to req/s.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
ensure_wrk
work=${BENCH_STATE:-/tmp/todo-bench-cpu-app}
rounds=${1:-3}
base=http://127.0.0.1:4580
mkdir -p "$work"
cd "$root"
fresh_database todo_cpu_app "$work/migrate.log"
PORT=4580 .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 60); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.5; done

sign_in "$base" hundred@example.com
create_tasks "$base" "$TOKEN" 100 >/dev/null
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$work/hundred.lua"
list100="$base/api/$USER/tasks"
sign_in "$base" twenty@example.com
task=$(create_tasks "$base" "$TOKEN" 20)
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$work/twenty.lua"
{ cat "$work/twenty.lua"; printf 'wrk.method = "PUT"\nwrk.body = %s\n' "'{\"title\": \"put\"}'"
  echo 'wrk.headers["Content-Type"] = "application/json"'; } >"$work/put.lua"

echo "round scenario req/s cpu_us_per_request db_us_per_request p50 p99"
for round in $(seq "$rounds"); do
  echo "$round get $(measure 4580 "$work/twenty.lua" "$base/api/$USER/tasks/$task")"
  echo "$round list20 $(measure 4580 "$work/twenty.lua" "$base/api/$USER/tasks")"
  echo "$round list100 $(measure 4580 "$work/hundred.lua" "$list100")"
  echo "$round put $(measure 4580 "$work/put.lua" "$base/api/$USER/tasks/$task")"
done
