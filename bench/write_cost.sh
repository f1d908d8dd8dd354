#!/usr/bin/env bash
# What the change numbers cost a write on the database alone: bench/write_cost.sh [rounds]
# pgbench (8 clients, 50 users x 20 tasks, a title change as the app's PUT sends it) against
# the schema at the migrations' head with the tasks' row trigger as shipped (it counts, takes
# the user's next change number under the user's row lock, and stamps updated_at), with a
# trigger that only stamps updated_at (what a write cost before numbers), and with no
# trigger; interleaved, `rounds` times (default 3), 8 s each. Prints transactions per second.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pgurl=${BENCH_PGURL:-postgresql://root@127.0.0.1:5432}
rounds=${1:-3}
database=todo_write_cost
psql "$pgurl/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database" \
  -c "ALTER DATABASE $database SET statement_timeout = '30s'"
trap 'psql "$pgurl/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)"' EXIT
(cd "$root" && DATABASE_URL="$pgurl/$database" .venv/bin/flask db upgrade) >/dev/null 2>&1
psql "$pgurl/$database" -q <<'SQL'
INSERT INTO users (id, email, password_hash, created_at)
  SELECT gen_random_uuid(), 'u' || g || '@example.com', repeat('h', 97), now()
  FROM generate_series(1, 50) g;
INSERT INTO tasks (user_id, id, title, completed, created_at, updated_at)
  SELECT u.id, gen_random_uuid(), 'task ' || g, false, now(), now()
  FROM users u, generate_series(1, 20) g;
CREATE TABLE bench_tasks AS SELECT row_number() OVER () AS n, user_id, id FROM tasks;
CREATE INDEX ON bench_tasks (n);
CREATE FUNCTION bench_stamp_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.version IS DISTINCT FROM OLD.version THEN NEW.updated_at := clock_timestamp(); END IF;
  RETURN NEW;
END $$;
ANALYZE;
SQL
script=$(mktemp)
cat >"$script" <<'SQL'
\set n random(1, 1000)
UPDATE tasks t SET title = 'title ' || :n, version = t.version + 1 FROM bench_tasks b
WHERE b.n = :n AND t.user_id = b.user_id AND t.id = b.id AND t.deleted_at IS NULL
RETURNING t.version;
SQL
with_trigger() {  # $1: the function the row trigger runs, or none
  psql "$pgurl/$database" -q -c "DROP TRIGGER IF EXISTS tasks_accounted ON tasks"
  if [ "$1" != none ]; then
    psql "$pgurl/$database" -q -c "CREATE TRIGGER tasks_accounted BEFORE INSERT OR UPDATE OR DELETE
      ON tasks FOR EACH ROW EXECUTE FUNCTION $1()"
  fi
}
echo "round trigger tps"
for round in $(seq "$rounds"); do
  for trigger in account_task_row bench_stamp_only none; do
    with_trigger "$trigger" 2>/dev/null
    tps=$(pgbench -n -c 8 -j 2 -T 8 -f "$script" "$pgurl/$database" 2>/dev/null | awk '/^tps/ {print $3}')
    echo "$round $trigger $tps"
  done
done
with_trigger account_task_row
rm -f "$script"
