#!/usr/bin/env bash
# The scale probe: a user's list before and after 1,000,000 tasks of 10,000 other users are
# bulk-inserted, on the same server and table. The shared probe's method
# (../shared/bench/scale.sh), whose SQL inserts completed tasks without a completion time,
# which this schema refuses (a task is completed exactly when it has completed_at).
#   bench/scale.sh BASE_URL DBURL      (e.g. http://127.0.0.1:4100 postgresql://root@127.0.0.1:5432/todo_bench)
# Users: one with 20 tasks created through the API, one with 100 inserted by SQL (one page).
# Each list with 16 connections for 6 s and with 1 for 3 s; prints a table; deletes the bulk
# users and the probe's own afterwards.
set -euo pipefail
base=${1:?BASE_URL}
dburl=${2:?DBURL}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
ensure_wrk
run=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Tasks for user $1: $2 of them, one in $3 completed (with its completion time), at minute $4 steps.
tasks_sql() {
  echo "SELECT gen_random_uuid(), $1, 'task ' || g, CASE WHEN g % 3 = 0 THEN 'about ' || g END,
    g % $3 = 0, CASE WHEN g % $3 = 0 THEN now() END,
    now() - make_interval(mins => g), now() - make_interval(mins => g)"
}
columns="id, user_id, title, description, completed, completed_at, created_at, updated_at"

sign_in "$base" "scale-$run-small@example.com"
small_user=$USER
create_tasks "$base" "$TOKEN" 20 >/dev/null
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$work/small.lua"
sign_in "$base" "scale-$run-big@example.com"
big_user=$USER
psql "$dburl" -qc "INSERT INTO tasks ($columns) $(tasks_sql "'$big_user'::uuid" 100 2) FROM generate_series(1, 100) g"
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$work/big.lua"

echo "| phase | tasks in table | table size | user's tasks | conns | req/s | p50 | p99 |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
measure_lists() {
  local tasks size who user count conns seconds
  tasks=$(psql "$dburl" -tAc "SELECT count(*) FROM tasks")
  size=$(psql "$dburl" -tAc "SELECT pg_size_pretty(pg_total_relation_size('tasks'))")
  for who in small big; do
    user=$([ "$who" = small ] && echo "$small_user" || echo "$big_user")
    count=$([ "$who" = small ] && echo 20 || echo 100)
    for conns in 16 1; do
      seconds=$([ "$conns" = 16 ] && echo 6 || echo 3)
      echo "| $1 | $tasks | $size | $count | $conns |" \
        "$(latency_cells "$conns" "$seconds" "$work/$who.lua" "$base/api/$user/tasks") |"
    done
  done
}
measure_lists before
started=$(date +%s)
psql "$dburl" -qc "INSERT INTO users (id, email, password_hash, created_at)
  SELECT gen_random_uuid(), 'scale-$run-bulk-' || g || '@bulk.example.com', 'not-a-hash', now()
  FROM generate_series(1, 10000) g"
# Users interleaved (ORDER BY g, rn): one user's rows spread over the table, as after months of use.
psql "$dburl" -qc "INSERT INTO tasks ($columns) $(tasks_sql u.id 100 2)
  FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM users
        WHERE email LIKE 'scale-$run-bulk-%') u
  CROSS JOIN generate_series(1, 100) g ORDER BY g, u.rn"
psql "$dburl" -qc "VACUUM ANALYZE users" -c "VACUUM ANALYZE tasks" -c "CHECKPOINT"
echo "(bulk insert of 1,000,000 tasks for 10,000 users, VACUUM ANALYZE, CHECKPOINT: $(($(date +%s) - started)) s)"
measure_lists after
psql "$dburl" -qc "DELETE FROM users WHERE email LIKE 'scale-$run-%'"
