#!/usr/bin/env bash
# The scale target for long lists: a limit=100 page of a user with 100,000 tasks against a
# page of a user with 100, both on the same server and table, interleaved over two rounds.
#   bench/deep_list.sh BASE_URL DBURL     (e.g. http://127.0.0.1:4100 postgresql://root@127.0.0.1:5432/todo_bench)
# Signs both users up through the API, inserts their tasks with SQL (as the shared scale probe
# does), prints req/s and p50/p99 with 16 connections and with 1, then deletes both users.
set -euo pipefail
base=${1:?BASE_URL}
dburl=${2:?DBURL}
big=${DEEP_LIST_TASKS:-100000}
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
run=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

declare -A user token
for who in small big; do
  sign_in "$base" "deep-$run-$who@example.com"
  user[$who]=$USER token[$who]=$TOKEN
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "${token[$who]}" >"$work/$who.lua"
done
# In statements of at most 5,000 rows: each row's counting trigger updates its user's row,
# whose versions pile up within one statement (100,000 rows at once would take many minutes).
for who in small big; do
  count=$([ "$who" = small ] && echo 100 || echo "$big")
  for first in $(seq 1 5000 "$count"); do
    last=$((first + 4999 < count ? first + 4999 : count))
    psql "$dburl" -qc "INSERT INTO tasks (id, user_id, title, description, completed, completed_at, created_at, updated_at)
      SELECT gen_random_uuid(), '${user[$who]}'::uuid, 'task ' || g,
             CASE WHEN g % 2 = 0 THEN 'description ' || g END, g % 3 = 0,
             CASE WHEN g % 3 = 0 THEN now() END,
             now() - make_interval(secs => g), now() - make_interval(secs => g)
      FROM generate_series($first, $last) g"
  done
done
psql "$dburl" -qc "VACUUM ANALYZE tasks"

echo "| round | user's tasks | connections | req/s | p50 | p99 |"
echo "|---|---:|---:|---:|---:|---:|"
for round in 1 2; do
  for who in small big; do
    for conns in 16 1; do
      count=$([ "$who" = small ] && echo 100 || echo "$big")
      echo "| $round | $count | $conns |" "$(latency_cells "$conns" "${DEEP_LIST_SECONDS:-5}" \
        "$work/$who.lua" "$base/api/${user[$who]}/tasks?limit=100") |"
    done
  done
done
psql "$dburl" -qc "DELETE FROM users WHERE email LIKE 'deep-$run-%'"
