#!/usr/bin/env bash
# CPU time the app's server spends per request (user + system, all its processes), and
# PostgreSQL's backends for its database, for a task read, the 20-task list, the 100-task list,
# a PUT (a new title each time; put_same: the same body again and again), a create (POST, into
# a user of its own), and a shared list of 20 tasks read by its owner and by a member (where
# the checkout has sharing), and a member's feed poll with nothing new, the member of 10 lists
# of 10 owners (where the feed brings shared lists):
# bench/cpu_per_request.sh [rounds] [commit]
# One server of this checkout (gunicorn.conf.py, 2 workers) on :4580 and a fresh PostgreSQL
# database. Given a commit, that commit is served too (a git worktree, :4581, a database of
# its own) and each scenario runs on both in turn ("now", then "before"), so a change is
# compared with what it changed within seconds, whatever the machine's load does to req/s.
# BENCH_SCENARIOS="put get" runs only those.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
ensure_wrk
rounds=${1:-3}
sides=(now)
# Ports and databases of their own per run (BENCH_PORT, BENCH_DATABASE) where several people
# measure on one machine: a second run with the defaults drops the first's database.
first_port=${BENCH_PORT:-4580} database_name=${BENCH_DATABASE:-todo_cpu}
declare -A port=([now]=$first_port [before]=$((first_port + 1)))
declare -A database=([now]=${database_name}_app [before]=${database_name}_before)
declare -A checkout=([now]=$root)
servers=""
trap 'kill $servers 2>/dev/null' EXIT
if [ -n "${2:-}" ]; then
  checkout_before "$2"
  sides+=(before) checkout[before]=$work/before
  trap 'kill $servers 2>/dev/null; git -C "$root" worktree remove --force "$work/before"; rm -rf "$work"' EXIT
fi
state=${BENCH_STATE:-/tmp/todo-bench-cpu-app}
mkdir -p "$state"
for side in "${sides[@]}"; do
  (cd "${checkout[$side]}" && fresh_database "${database[$side]}" "$state/migrate-$side.log" &&
    PORT=${port[$side]} exec "$root/.venv/bin/gunicorn" -c gunicorn.conf.py wsgi:app) \
    >"$state/server-$side.log" 2>&1 &
  servers="$servers $!"
done

declare -A url
# A list of 20 tasks its owner shares with a member (docs/sharing.md): SHARED_URL lists them,
# $2-owner.lua and $2-member.lua hold each one's token. Fails where sharing is not built.
shared_list() {
  local json='Content-Type: application/json' owner owner_token list invitation n
  sign_in "$1" sharing-owner@example.com
  owner=$USER owner_token=$TOKEN
  list=$(curl -sf -X POST "$1/api/$owner/lists" -H "Authorization: Bearer $owner_token" -H "$json" \
    -d '{"name": "Shared"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  for n in $(seq 20); do
    curl -sf -o /dev/null -X POST "$1/api/$owner/tasks" -H "Authorization: Bearer $owner_token" \
      -H "$json" -d "{\"title\": \"Task $n\", \"list_id\": \"$list\"}"
  done
  curl -sf -o /dev/null -X POST "$1/api/$owner/lists/$list/invitations" -H "$json" \
    -H "Authorization: Bearer $owner_token" -d '{"email": "sharing-member@example.com", "role": "editor"}' ||
    return 1
  sign_in "$1" sharing-member@example.com
  invitation=$(curl -sf "$1/api/$USER/invitations" -H "Authorization: Bearer $TOKEN" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
  curl -sf -o /dev/null -X POST "$1/api/$USER/invitations/$invitation/accept" -H "Authorization: Bearer $TOKEN"
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$owner_token" >"$2-owner.lua"
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$2-member.lua"
  SHARED_URL="$1/api/$owner/tasks?list_id=$list"
}
# A member of 10 lists shared by 10 owners, synced: FEED_URL polls their feed from where the
# sync ended (nothing new), $2-feed.lua holds the member's token. Fails where the feed's
# cursor does not follow the owners.
member_feed() {
  local json='Content-Type: application/json' n owner_token list invitation member member_token next
  sign_in "$1" feed-member@example.com
  member=$USER member_token=$TOKEN
  for n in $(seq 10); do
    sign_in "$1" "feed-owner$n@example.com"
    owner_token=$TOKEN
    list=$(curl -sf -X POST "$1/api/$USER/lists" -H "Authorization: Bearer $owner_token" -H "$json" \
      -d '{"name": "Shared"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    curl -sf -o /dev/null -X POST "$1/api/$USER/tasks" -H "Authorization: Bearer $owner_token" \
      -H "$json" -d "{\"title\": \"Task $n\", \"list_id\": \"$list\"}"
    curl -sf -o /dev/null -X POST "$1/api/$USER/lists/$list/invitations" -H "$json" \
      -H "Authorization: Bearer $owner_token" -d '{"email": "feed-member@example.com", "role": "editor"}'
    invitation=$(curl -sf "$1/api/$member/invitations" -H "Authorization: Bearer $member_token" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
    curl -sf -o /dev/null -X POST "$1/api/$member/invitations/$invitation/accept" \
      -H "Authorization: Bearer $member_token"
  done
  next=$(curl -sf "$1/api/$member/changes" -H "Authorization: Bearer $member_token" |
    python3 -c 'import json,sys; page = json.load(sys.stdin); print(page["next"] if len(page["lists"]) == 10 else "")')
  [ -n "$next" ] || return 1
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$member_token" >"$2-feed.lua"
  FEED_URL="$1/api/$member/changes?since=$next"
}
for side in "${sides[@]}"; do
  base=http://127.0.0.1:${port[$side]}
  for _ in $(seq 60); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.5; done
  sign_in "$base" hundred@example.com
  create_tasks "$base" "$TOKEN" 100 >/dev/null
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$state/$side-hundred.lua"
  url[$side-list100]=$base/api/$USER/tasks
  sign_in "$base" twenty@example.com
  task=$(create_tasks "$base" "$TOKEN" 20)
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$state/$side-twenty.lua"
  # Each PUT a new title, as the shared harness sends them: a write that changes the task
  # (a new version, change number and updated_at), not the no-op a repeated body would be.
  { cat "$state/$side-twenty.lua"; echo 'wrk.method = "PUT"'
    echo 'wrk.headers["Content-Type"] = "application/json"'
    echo 'local n = 0'
    echo 'request = function() n = n + 1; return wrk.format(nil, nil, nil,'
    echo '  string.format([[{"title": "put %d", "description": "updated by wrk"}]], n)) end'
  } >"$state/$side-put.lua"
  # The same body again and again, as the shared harness's `update` sends each task's: after
  # the first, a PUT that changes nothing.
  { cat "$state/$side-twenty.lua"; printf 'wrk.method = "PUT"\nwrk.body = %s\n' "'{\"title\": \"put\"}'"
    echo 'wrk.headers["Content-Type"] = "application/json"'; } >"$state/$side-put_same.lua"
  url[$side-get]=$base/api/$USER/tasks/$task url[$side-list20]=$base/api/$USER/tasks
  url[$side-put]=$base/api/$USER/tasks/$task url[$side-put_same]=$base/api/$USER/tasks/$task
  sign_in "$base" sink@example.com
  { printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN"
    printf 'wrk.method = "POST"\nwrk.body = %s\n' "'{\"title\": \"bench task\"}'"
    echo 'wrk.headers["Content-Type"] = "application/json"'; } >"$state/$side-post.lua"
  url[$side-post]=$base/api/$USER/tasks
  shared_list "$base" "$state/$side" && url[$side-owner20]=$SHARED_URL url[$side-member20]=$SHARED_URL
  member_feed "$base" "$state/$side" && url[$side-feed10]=$FEED_URL
done

declare -A script=([get]=twenty [list20]=twenty [list100]=hundred [put]=put [put_same]=put_same [post]=post
  [owner20]=owner [member20]=member [feed10]=feed)
echo "round scenario side req/s cpu_us_per_request db_us_per_request p50 p99"
for round in $(seq "$rounds"); do
  for scenario in ${BENCH_SCENARIOS:-get list20 list100 put put_same post owner20 member20 feed10}; do
    for side in "${sides[@]}"; do
      [ -n "${url[$side-$scenario]:-}" ] || continue  # a scenario this checkout cannot run
      MEASURE_DATABASE=${database[$side]}
      echo "$round $scenario $side $(measure "${port[$side]}" "$state/$side-${script[$scenario]}.lua" \
        "${url[$side-$scenario]}")"
    done
  done
done
