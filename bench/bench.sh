#!/usr/bin/env bash
# The shared load harness against this app and the two references, interleaved:
#   bench/bench.sh [compare.sh options]      (make bench)
# Serves this app with its production gunicorn config on :4100 against a fresh PostgreSQL
# database (BENCH_PGURL, default postgresql://root@127.0.0.1:5432), starts the references
# (seed on :4101, raw on :4102) and prints compare.sh's ratio table. Extra gunicorn flags for
# experiments: GUNICORN_ARGS="-k sync" bench/bench.sh. BENCH_GTHREAD=1 adds the app under
# gunicorn's stock gthread worker on :4104; BENCH_FLOOR=1 the stack's floor on :4103;
# BENCH_SERVING=1 compares only the app under its own worker and under gthread (ratios to
# gthread), without the references. BENCH_BASELINE=<commit> adds the app at that commit on
# :4105 ("before"), to measure what a change costs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_DIR:-$root/../shared}
pgurl=${BENCH_PGURL:-postgresql://root@127.0.0.1:5432}
state=${BENCH_STATE:-/tmp/todo-bench-app}
port=4100
mkdir -p "$state"
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
ensure_wrk

# As an operator sets it up: the statement bound is the database's (README: Deploying).
psql "$pgurl/postgres" -qc "DROP DATABASE IF EXISTS todo_bench WITH (FORCE)" -c "CREATE DATABASE todo_bench" \
  -c "ALTER DATABASE todo_bench SET statement_timeout = '30s'"
export APP_ENV=production DATABASE_URL="$pgurl/todo_bench" PORT=$port WEB_CONCURRENCY=${WEB_CONCURRENCY:-2}
export JWT_SECRET_KEY=${JWT_SECRET_KEY:-bench-secret-$(head -c 24 /dev/urandom | base64)}
# The harness signs up 60 users from one address, and each makes thousands of requests a
# second: their request budgets are spent (their cost is measured) but never run out. Every
# other limit stays as shipped.
export RATELIMIT_SIGNUP_PER_ADDRESS="1000 per hour" RATELIMIT_LOGIN_PER_ADDRESS="1000 per minute"
export RATELIMIT_LOGINS_PER_ADDRESS="1000 per minute"
for budget in RATELIMIT_BUDGET RATELIMIT_BUDGET_FEED RATELIMIT_BUDGET_BATCH RATELIMIT_BUDGET_STREAM; do
  export "$budget=1000000000 per 15 minutes"
done
cd "$root"
.venv/bin/flask db upgrade >"$state/migrate.log" 2>&1
# shellcheck disable=SC2086
.venv/bin/gunicorn -c gunicorn.conf.py ${GUNICORN_ARGS:-} wsgi:app >"$state/gunicorn.log" 2>&1 &
pids=$!
trap 'kill $pids 2>/dev/null; "$shared/bench/references.sh" stop >/dev/null' EXIT
targets=(seed=http://127.0.0.1:4101 raw=http://127.0.0.1:4102 todo=http://127.0.0.1:$port)
if [ "${BENCH_FLOOR:-0}" = 1 ]; then
  psql "$pgurl/postgres" -qc "DROP DATABASE IF EXISTS todo_floor WITH (FORCE)" -c "CREATE DATABASE todo_floor" \
  -c "ALTER DATABASE todo_floor SET statement_timeout = '30s'"
  DATABASE_URL="$pgurl/todo_floor" .venv/bin/flask db upgrade >>"$state/migrate.log" 2>&1
  # From bench/, so gunicorn does not read the app's gunicorn.conf.py; psycopg2 named, as the
  # app does; its threads per worker and one socket per worker only as the app has them.
  reuse=() setting=${GUNICORN_REUSE_PORT:-}
  case "${setting,,}" in 1 | true | yes | on) reuse=(--reuse-port) ;; esac
  (cd bench && DATABASE_URL="postgresql+psycopg2://${pgurl#*://}/todo_floor" exec ../.venv/bin/gunicorn \
    -k gthread -w 2 --threads "${GUNICORN_THREADS:-2}" "${reuse[@]}" -b 127.0.0.1:4103 floor_app:app) >"$state/floor.log" 2>&1 &
  pids="$pids $!"
  targets+=(floor=http://127.0.0.1:4103)
fi
if [ -n "${BENCH_BASELINE:-}" ]; then
  # The same app at an earlier commit (a git worktree, this venv, its own database) on :4105,
  # so a change is measured against what it changes, in the same run.
  baseline=$state/baseline
  git -C "$root" worktree remove --force "$baseline" 2>/dev/null || rm -rf "$baseline"
  git -C "$root" worktree add --detach "$baseline" "$BENCH_BASELINE" >/dev/null
  trap 'kill $pids 2>/dev/null; "$shared/bench/references.sh" stop >/dev/null
    git -C "$root" worktree remove --force "$baseline"' EXIT
  psql "$pgurl/postgres" -qc "DROP DATABASE IF EXISTS todo_baseline WITH (FORCE)" -c "CREATE DATABASE todo_baseline" \
  -c "ALTER DATABASE todo_baseline SET statement_timeout = '30s'"
  (cd "$baseline" && DATABASE_URL="$pgurl/todo_baseline" "$root/.venv/bin/flask" db upgrade) >>"$state/migrate.log" 2>&1
  # shellcheck disable=SC2086
  (cd "$baseline" && DATABASE_URL="$pgurl/todo_baseline" PORT=4105 exec "$root/.venv/bin/gunicorn" \
    -c gunicorn.conf.py ${GUNICORN_ARGS:-} wsgi:app) >"$state/baseline.log" 2>&1 &
  pids="$pids $!"
  targets+=(before=http://127.0.0.1:4105)
fi
if [ "${BENCH_GTHREAD:-0}" = 1 ] || [ "${BENCH_SERVING:-0}" = 1 ]; then
  # The same app and database under gunicorn's stock gthread worker, to compare the serving
  # worker against (bench/RESULTS.md).
  # shellcheck disable=SC2086
  PORT=4104 .venv/bin/gunicorn -c gunicorn.conf.py -k gthread ${GUNICORN_ARGS:-} wsgi:app >"$state/gthread.log" 2>&1 &
  pids="$pids $!"
  targets+=(gthread=http://127.0.0.1:4104)
fi
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
if [ "${BENCH_SERVING:-0}" = 1 ]; then
  "$shared/bench/compare.sh" --ref gthread "$@" gthread=http://127.0.0.1:4104 todo=http://127.0.0.1:$port
  exit
fi
"$shared/bench/references.sh" start
"$shared/bench/compare.sh" --ref seed "$@" "${targets[@]}"
