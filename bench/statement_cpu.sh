#!/usr/bin/env bash
# PostgreSQL's CPU per statement, a task read and the 20-task list, as an earlier commit and
# this checkout compile them: bench/statement_cpu.sh <commit>
# Both run on one fresh database migrated by this checkout, interleaved (bench/statement_cpu.py);
# BENCH_DATABASE names it, beside someone else's run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
checkout_before "${1:?commit}"
cd "$root"
trap 'git -C "$root" worktree remove --force "$work/before"; rm -rf "$work"' EXIT
fresh_database "${BENCH_DATABASE:-todo_statement_cpu}" "$work/migrate.log"
LOG_LEVEL=WARNING .venv/bin/python bench/statement_cpu.py compare "$work/before" "$root"
