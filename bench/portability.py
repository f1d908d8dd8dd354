"""Exports and imports at size (bench/portability.sh): a user of 100,000 tasks exported as
JSON, iCalendar and CSV, each streamed through the app (peak RSS growth of the process, and
tasks/s), and a CSV of 20,000 tasks (the most an import takes) previewed, imported, and
imported again, each with the CPU time it took in this process and in PostgreSQL's backends
(read from /proc: the server runs on this machine), what it would take on idle cores. Then
the same file sent to an app with an import queue (BENCH_REDIS_URL): what its request costs
(202), and the job's run in a `flask todo work --burst` process. Last, through a real gunicorn
server (`python -m server`, its defaults: a worker per core, two threads each): each export of
the 100,000 tasks read by a client at full speed, its rate and the workers' peak RSS growth,
and the latency of another user's list reads (one connection, one after another) while it
runs, beside the same reads with no export running."""

import http.client
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import psycopg2
from flask_migrate import upgrade
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from config import TestingConfig
from todo import create_app
from todo.extensions import db

SERVER = os.environ.get("BENCH_PGURL", "postgresql://root@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ROOT = Path(__file__).resolve().parent.parent
DATABASE, TASKS, IMPORTED = "todo_portability_bench", 100_000, 20_000
SEED = """
INSERT INTO tasks (user_id, id, title, description, completed, completed_at, created_at,
                   updated_at, due_date, due_time, priority, position, change_number, version,
                   created_by, updated_by, completed_by)
SELECT :owner, md5(n::text || :owner)::uuid, 'Task ' || n,
       CASE WHEN n % 3 = 0 THEN 'Some words about task ' || n END, n % 5 = 0,
       CASE WHEN n % 5 = 0 THEN now() END, now(), now(),
       CASE WHEN n % 2 = 0 THEN DATE '2027-01-01' + n % 400 END,
       CASE WHEN n % 4 = 0 THEN TIME '09:30' END, n % 4, 'a0', 0, 1,
       CAST(:owner AS uuid), CAST(:owner AS uuid), CASE WHEN n % 5 = 0 THEN CAST(:owner AS uuid) END
FROM generate_series(:first, :first + 9999) AS n
"""


def backends_cpu(app) -> float:
    """CPU seconds the bench database's backends have used (PostgreSQL on this machine)."""
    with app.app_context():
        pids = db.session.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
        db.session.rollback()
    seconds = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        seconds += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def fresh_database() -> str:
    admin = psycopg2.connect(f"{SERVER}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    admin.close()
    return f"{SERVER}/{DATABASE}"


def account(client, email: str) -> tuple[str, dict]:
    body = {"email": email, "password": "password123"}
    client.post("/api/auth/signup", json=body)
    token = client.post("/api/auth/login", json=body).get_json()
    return token["user_id"], {"Authorization": f"Bearer {token['token']}"}


def streamed(client, url: str, headers: dict) -> tuple[int, float]:
    started = time.perf_counter()
    answer = client.get(url, headers=headers, buffered=False)
    size = sum(len(chunk) for chunk in answer.response)
    answer.close()
    return size, time.perf_counter() - started


def main() -> None:
    app = create_app(TestingConfig(fresh_database()))
    with app.app_context():
        upgrade()
    client = app.test_client()
    user_id, headers = account(client, "big@example.com")
    started = time.perf_counter()
    with app.app_context():
        for first in range(1, TASKS, 10_000):  # each statement well within the bound
            db.session.execute(text(SEED), {"owner": user_id, "first": first})
            db.session.commit()
        # The planner's statistics, as autovacuum would gather them after so many new rows (a
        # server where it is off, as this bench machine's is, plans the export's keyset pages
        # with an empty table's: a scan of the whole account for each page, 0.5 s, not 1 ms).
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    print(f"seeded {TASKS:,} tasks in {time.perf_counter() - started:.1f} s")
    if "--served" in sys.argv:  # only what the real server does
        served(app.config["SQLALCHEMY_DATABASE_URI"])
        return
    streamed(client, f"/api/{user_id}/export/csv?q=Task%201", headers)  # warm the code paths
    for name, path in (("JSON", "export"), ("iCalendar", "export/calendar"), ("CSV", "export/csv")):
        before = peak_kib()
        size, took = streamed(client, f"/api/{user_id}/{path}", headers)
        growth = (peak_kib() - before) / 1024
        print(
            f"export {name:9}: {size / 2**20:6.1f} MiB in {took:5.1f} s, "
            f"{TASKS / took:8,.0f} tasks/s, peak RSS growth {growth:5.1f} MiB"
        )
    rows = "".join(f"Imported {n},2027-01-{n % 28 + 1:02d},{n % 4}\r\n" for n in range(IMPORTED))
    body = ("title,due_date,priority\r\n" + rows).encode()
    other, other_headers = account(client, "mover@example.com")
    for name, path in (("preview", "imports/preview"), ("apply", "imports"), ("again", "imports")):
        cpu, database = time.process_time(), backends_cpu(app)
        started = time.perf_counter()
        answer = client.post(
            f"/api/{other}/{path}", data=body, content_type="text/csv", headers=other_headers
        )
        took = time.perf_counter() - started
        cpu, database = time.process_time() - cpu, backends_cpu(app) - database
        counts = answer.get_json()["counts"]
        print(
            f"import {name:7}: {IMPORTED:,} CSV rows in {took:5.1f} s, "
            f"{IMPORTED / took:6,.0f} tasks/s, CPU {cpu:4.1f} s here + {database:4.1f} s in "
            f"PostgreSQL, created {counts['created']:,}, unchanged {counts['unchanged']:,} "
            f"({answer.status_code})"
        )
    queued(app.config["SQLALCHEMY_DATABASE_URI"], body)
    served(app.config["SQLALCHEMY_DATABASE_URI"])


def queued(url: str, body: bytes) -> None:
    """The file sent to an app with an import queue: the request's wall and CPU time (its
    202), then the job run by a `flask todo work --burst` process, and the job's own time."""
    config = TestingConfig(url)
    prefix = f"bench-portability-{os.getpid()}:"  # no job of an earlier run in its queue
    config.RATELIMIT_STORAGE_URI, config.RATELIMIT_KEY_PREFIX = REDIS, prefix
    app = create_app(config)
    client = app.test_client()
    user_id, headers = account(client, "queued@example.com")
    cpu, started = time.process_time(), time.perf_counter()
    answer = client.post(
        f"/api/{user_id}/imports", data=body, content_type="text/csv", headers=headers
    )
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert answer.status_code == 202, answer.get_json()
    print(
        f"import as a job: the request answered {answer.status_code} in {took * 1000:5.1f} ms, "
        f"CPU {cpu * 1000:5.1f} ms"
    )
    env = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": url,
        "JWT_SECRET_KEY": TestingConfig.secret(None),
        "RATELIMIT_STORAGE_URI": REDIS,
        "RATELIMIT_KEY_PREFIX": config.RATELIMIT_KEY_PREFIX,
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flask", "todo", "work", "--burst"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    worked = time.perf_counter() - started
    job = client.get(answer.headers["Location"], headers=headers).get_json()
    ran = datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])
    print(
        f"import as a job: {job['state']} {job['status']}, created "
        f"{job['report']['counts']['created']:,}, the job ran {ran.total_seconds():4.1f} s "
        f"(the worker process, start to exit: {worked:4.1f} s)"
    )


def call(port: int, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        data = None if body is None else json.dumps(body).encode()
        headers = {**(headers or {}), **({"Content-Type": "application/json"} if data else {})}
        connection.request(method, path, data, headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def signed_in(port: int, email: str) -> tuple[str, dict]:
    body = {"email": email, "password": "password123"}
    call(port, "POST", "/api/auth/signup", body)
    token = json.loads(call(port, "POST", "/api/auth/login", body)[1])
    return token["user_id"], {"Authorization": f"Bearer {token['token']}"}


def workers_peak_kib(server: subprocess.Popen) -> int:
    """The workers' peak resident sizes added up (Linux's /proc: VmHWM)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    total = 0
    for child in children:
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total


def read_latencies(port: int, path: str, headers: dict, until: threading.Event) -> list[float]:
    """Reads of `path` one after another on one connection until `until` is set: seconds each."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    took = []
    while not until.is_set():
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 200, answer.status
        took.append(time.perf_counter() - started)
    connection.close()
    return took


def percentiles(took: list[float]) -> str:
    cuts = statistics.quantiles(took, n=100)
    return f"p50 {cuts[49] * 1000:5.1f} ms, p99 {cuts[98] * 1000:6.1f} ms ({len(took):,} reads)"


def exported(port: int, path: str, headers: dict) -> tuple[int, int, float]:
    """An export read at full speed: its status, size and seconds."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        size = 0
        while chunk := answer.read(1 << 20):
            size += len(chunk)
        return answer.status, size, time.perf_counter() - started
    finally:
        connection.close()


def served(url: str) -> None:
    port = 4400 + os.getpid() % 500
    env = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": url,
        "JWT_SECRET_KEY": TestingConfig.secret(None),
        "PORT": str(port),
        "RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": "warning",
    }
    server = subprocess.Popen([sys.executable, "-m", "server"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if call(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        big_id, big = signed_in(port, "big@example.com")
        reader_id, reader = signed_in(port, "reader@example.com")
        for number in range(20):
            call(port, "POST", f"/api/{reader_id}/tasks", {"title": f"Read {number}"}, reader)
        reads = f"/api/{reader_id}/tasks?limit=20"
        alone = threading.Event()
        timer = threading.Timer(10, alone.set)
        timer.start()
        took = read_latencies(port, reads, reader, alone)
        print(f"served, no export running: list reads {percentiles(took)}")
        for name, path in (
            ("JSON", "export"),
            ("iCalendar", "export/calendar"),
            ("CSV", "export/csv"),
        ):
            before = workers_peak_kib(server)
            status, size, took = exported(port, f"/api/{big_id}/{path}", big)
            growth = (workers_peak_kib(server) - before) / 1024
            print(
                f"served export {name:9}: {status} {size / 2**20:6.1f} MiB in {took:5.1f} s, "
                f"{TASKS / took:6,.0f} tasks/s, workers' peak RSS growth {growth:5.1f} MiB"
            )
        done, found = threading.Event(), {}

        def export():
            found["answer"] = exported(port, f"/api/{big_id}/export/calendar", big)
            done.set()

        exporting = threading.Thread(target=export)
        exporting.start()
        took = read_latencies(port, reads, reader, done)
        exporting.join()
        print(
            f"served, an iCalendar export running ({found['answer'][2]:5.1f} s): list reads "
            f"{percentiles(took)}"
        )
    finally:
        server.terminate()
        server.wait(60)


if __name__ == "__main__":
    main()
