# Helpers the benchmarks share (sourced, not run).

# wrk, the load generator, from Debian's packages if it is missing.
ensure_wrk() {
  command -v wrk >/dev/null && return
  apt-get install -y -q wrk >/dev/null || { echo "bench needs wrk: apt-get install wrk" >&2; exit 1; }
}

# User + system clock ticks of every process holding the TCP port $1's listening socket.
cpu_ticks() {
  local total=0 pid
  for pid in $(ss -ltnp "( sport = :$1 )" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo $total
}

# User + system clock ticks of PostgreSQL's backends serving database $1 (their process titles
# name it); the server shares the machine's cores with the app, so its work per request counts.
database_ticks() {
  local total=0 pid
  for pid in $(pgrep -f "^postgres: (.*: )?[^ ]+ $1 "); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo $total
}

# wrk for 6 s at 16 connections with script $2 against URL $3, on the server of port $1;
# prints "req/s cpu_us_per_request db_us_per_request p50 p99": the app's CPU per request, then
# PostgreSQL's for the database fresh_database made (latencies as wrk prints them, e.g. 3.21ms).
measure() {
  local port=$1 script=$2 url=$3 before after db_before db_after out requests rate p50 p99 tick_us
  before=$(cpu_ticks "$port") db_before=$(database_ticks "$MEASURE_DATABASE")
  out=$(wrk -t1 -c16 -d6s --latency -s "$script" "$url")
  after=$(cpu_ticks "$port") db_after=$(database_ticks "$MEASURE_DATABASE")
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  rate=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  tick_us=$((1000000 / $(getconf CLK_TCK)))
  echo "$rate $(((after - before) * tick_us / requests)) $(((db_after - db_before) * tick_us / requests))" \
    "$p50 $p99"
}

# wrk with $1 connections for $2 s, script $3, against URL $4; prints "req/s | p50 | p99", the
# cells of a Markdown table row (latencies as wrk prints them).
latency_cells() {
  wrk -t1 -c"$1" -d"$2"s --latency -s "$3" "$4" | wrk_cells
}

# The same cells from wrk's output (--latency) on stdin.
wrk_cells() {
  local out
  out=$(cat)
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") | $(awk '$1 == "50%" {print $2}' <<<"$out") |" \
    "$(awk '$1 == "99%" {print $2}' <<<"$out")"
}

# Sign up and log in $2 on the API at $1; sets TOKEN and USER.
sign_in() {
  local credentials="{\"email\": \"$2\", \"password\": \"password123\"}" login
  curl -sf -X POST "$1/api/auth/signup" -H 'Content-Type: application/json' -d "$credentials" >/dev/null
  login=$(curl -sf -X POST "$1/api/auth/login" -H 'Content-Type: application/json' -d "$credentials")
  TOKEN=$(echo "$login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  USER=$(echo "$login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user_id"])')
}

# Create $3 tasks for the signed-in user on the API at $1 (token $2); prints the last id.
create_tasks() {
  local n id
  for n in $(seq "$3"); do
    id=$(curl -sf -X POST "$1/api/$USER/tasks" -H "Authorization: Bearer $2" \
      -H 'Content-Type: application/json' -d "{\"title\": \"Task $n\", \"description\": \"About task $n\"}" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  done
  echo "$id"
}

# A fresh, migrated PostgreSQL database $1 (on BENCH_PGURL) for servers this shell starts:
# exports the production settings they run with (throttling off unless RATELIMIT_ENABLED says
# otherwise: the harness signs up from one address; on, the request budgets are spent and
# their cost measured), and MEASURE_DATABASE, whose backends `measure` counts. Migration
# output goes to $2.
fresh_database() {
  local pgurl=${BENCH_PGURL:-postgresql://root@127.0.0.1:5432}
  psql "$pgurl/postgres" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" \
  -c "ALTER DATABASE $1 SET statement_timeout = '30s'"
  export APP_ENV=production DATABASE_URL="$pgurl/$1" RATELIMIT_ENABLED=${RATELIMIT_ENABLED:-false} WEB_CONCURRENCY=2
  export MEASURE_DATABASE=$1
  export JWT_SECRET_KEY=${JWT_SECRET_KEY:-bench-secret-$(head -c 24 /dev/urandom | base64)}
  "$root/.venv/bin/flask" db upgrade >"$2" 2>&1
}

# A scratch directory in $work, holding commit $1 checked out (a git worktree of this
# checkout) as $work/before; the caller removes both when done.
checkout_before() {
  work=$(mktemp -d)
  git -C "$root" worktree add --detach "$work/before" "$1" >/dev/null
}
