#!/usr/bin/env bash
# The read scenarios beside make bench's six: bench/reads.sh [rounds]   (make bench-reads)
# 1. The 100-task list (one page: the default page size) and a task read, interleaved against
#    the references and the stack's floor: bench.sh with 100 tasks per user.
# 2. A synced client's idle polls against a task read: the empty feed poll and the 304 list
#    (bench/sync_polls.sh), with the 20-task list for scale.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-2}
BENCH_FLOOR=1 "$root/bench/bench.sh" --tasks 100 --scenarios list,get --rounds "$rounds" -d 6
"$root/bench/sync_polls.sh" "$rounds"
