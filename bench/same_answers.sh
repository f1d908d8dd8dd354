#!/usr/bin/env bash
# Whether this checkout answers byte for byte what an earlier commit answered, for the same rows:
#   bench/same_answers.sh <commit>
# Serves <commit> (a git worktree, this venv) and this checkout on one fresh PostgreSQL
# database with one JWT secret, makes tasks of every kind through this checkout (the three due
# forms, labels, reminders, recurrence, a list, a subtask, completed and trashed ones), then
# GETs every read route from both and compares status, headers (but Date and X-Request-ID)
# and bodies (the feed's cursor aside: it is signed with the time it was issued). For
# performance work, whose answers must not change. BENCH_DATABASE and BENCH_PORT (this
# checkout's; the commit's is the next) beside someone else's run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
checkout_before "${1:?commit}"
cd "$root"
fresh_database "${BENCH_DATABASE:-todo_same_answers}" "$work/migrate.log"
now_port=${BENCH_PORT:-4701} before_port=$((${BENCH_PORT:-4701} + 1))
export JWT_SECRET_KEY=same-answers-$(head -c 24 /dev/urandom | base64)
PORT=$now_port .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app >"$work/now.log" 2>&1 &
now=$!
(cd "$work/before" && PORT=$before_port exec "$root/.venv/bin/gunicorn" -c gunicorn.conf.py wsgi:app) >"$work/before.log" 2>&1 &
before=$!
trap 'kill $now $before 2>/dev/null; git -C "$root" worktree remove --force "$work/before"; rm -rf "$work"' EXIT
for port in $now_port $before_port; do
  for _ in $(seq 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
done
.venv/bin/python bench/same_answers.py "http://127.0.0.1:$now_port" "http://127.0.0.1:$before_port"
