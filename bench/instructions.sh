#!/usr/bin/env bash
# Instructions the app executes per request, counted by callgrind (valgrind): repeatable to
# ~1% whatever else the machine is doing, where CPU time moves 15-30% between rounds here.
#   bench/instructions.sh [commit]
# For a task read, the 20-task list and the 100-task list (one page) (BENCH_SCENARIOS: any of
# bench/instructions.py's, e.g. "get put toggle owner20 member20"), the app in one process
# (bench/instructions.py: its WSGI callable, no server) on a fresh PostgreSQL database, with
# the production settings; callgrind counts only the measured requests (50 of each, after 30
# warm-up ones). Given a commit, that commit (a git worktree) is measured the same way after
# this checkout. The Python code the app runs is counted, with the C it calls (psycopg2,
# libpq, orjson); PostgreSQL's own work and gunicorn's are not (bench/cpu_per_request.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
command -v valgrind >/dev/null || apt-get install -y -q valgrind >/dev/null
requests=50
state=${BENCH_STATE:-/tmp/todo-bench-instructions}
rm -rf "$state" && mkdir -p "$state"
sides=(now)
declare -A checkout=([now]=$root)
if [ -n "${1:-}" ]; then
  checkout_before "$1"
  sides+=(before) checkout[before]=$work/before
  trap 'git -C "$root" worktree remove --force "$work/before"; rm -rf "$work"' EXIT
fi

# Wait for file $1 while the driver (pid $2) runs; its log and a failure if it stops first.
await() {
  until [ -e "$1" ]; do
    sleep 0.2
    kill -0 "$2" 2>/dev/null || { cat "$state/driver.log" >&2; exit 1; }
  done
}

# Instructions per request of scenario $2 in checkout $1 (callgrind's window: the gate files).
count() {
  local gate=$state/gate-$RANDOM out driver status
  out=$state/callgrind-$(basename "$1")-$2
  driver=$root/bench/instructions.py  # this checkout's scenarios, whatever the commit's
  (cd "$1" && exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
    "$root/.venv/bin/python" "$driver" "$2" "$requests" "$gate") >"$state/driver.log" 2>&1 &
  local driver_pid=$!
  until [ -e "$gate.ready" ]; do  # or the driver ends first: a scenario the checkout cannot run
    sleep 0.2
    kill -0 "$driver_pid" 2>/dev/null && continue
    wait "$driver_pid" && status=0 || status=$?
    [ "$status" = 3 ] && { echo "-"; return; }
    cat "$state/driver.log" >&2
    exit 1
  done
  callgrind_control -i on "$driver_pid" >/dev/null 2>&1
  touch "$gate.go"
  await "$gate.done" $driver_pid
  callgrind_control -i off "$driver_pid" >/dev/null 2>&1
  touch "$gate.end"
  wait "$driver_pid" || { cat "$state/driver.log" >&2; exit 1; }
  echo $(($(awk '/^totals:/ {print $2}' "$out") / requests))
}

# Access lines left out: gunicorn's workers write them in batches (logs.py), this process
# would through the logging module.
export LOG_LEVEL=WARNING
echo "scenario side instructions_per_request"
for side in "${sides[@]}"; do
  cd "${checkout[$side]}"
  fresh_database "${BENCH_DATABASE:-todo_instructions}" "$state/migrate.log"
  for scenario in ${BENCH_SCENARIOS:-get list20 list100}; do
    echo "$scenario $side $(count "${checkout[$side]}" "$scenario")"
  done
done
