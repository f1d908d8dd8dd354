#!/usr/bin/env bash
# Whether this checkout answers byte for byte what an earlier commit answered, for the same rows:
#   bench/same_answers.sh <commit>
# Serves <commit> (a git worktree, this venv) and this checkout on one fresh PostgreSQL
# database with one JWT secret, makes tasks of every kind through this checkout (the three due
# forms, labels, reminders, recurrence, a list, a subtask, completed and trashed ones), then
# GETs every read route from both and compares status, headers (but Date and X-Request-ID)
# and bodies (the feed's cursor aside: it is signed with the time it was issued). For
# performance work, whose answers must not change.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
checkout_before "${1:?commit}"
cd "$root"
fresh_database todo_same_answers "$work/migrate.log"
export JWT_SECRET_KEY=same-answers-$(head -c 24 /dev/urandom | base64)
PORT=4701 .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app >"$work/now.log" 2>&1 &
now=$!
(cd "$work/before" && PORT=4702 exec "$root/.venv/bin/gunicorn" -c gunicorn.conf.py wsgi:app) >"$work/before.log" 2>&1 &
before=$!
trap 'kill $now $before 2>/dev/null; git -C "$root" worktree remove --force "$work/before"; rm -rf "$work"' EXIT
for port in 4701 4702; do
  for _ in $(seq 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
done
.venv/bin/python bench/same_answers.py http://127.0.0.1:4701 http://127.0.0.1:4702
