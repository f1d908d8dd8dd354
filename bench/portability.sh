#!/usr/bin/env bash
# Exports and imports at size: bench/portability.sh (BENCH_PGURL, default
# postgresql://root@127.0.0.1:5432; a database of its own, todo_portability_bench). A user of
# 100,000 tasks exported as JSON, iCalendar and CSV, each streamed through the app: its rate
# and the process's peak RSS growth; a CSV of 20,000 tasks previewed, imported, and imported
# again (nothing new). In one process, through Flask's test client: the app's own work. Then
# each export through a real gunicorn server, with another user's reads beside it
# (`bench/portability.sh --served`: only that part).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
exec .venv/bin/python bench/portability.py "$@"
