"""Settings as an operator meets them: a bad value stops the process with one line saying which
and how to fix it; `.env` reaches gunicorn too; the documented table is the code's."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import settings
from tests.servers import ROOT, SECRET
from tests.tcp_proxy import free_port

SERVER = [sys.executable, "-m", "server"]  # the documented command (server/__main__.py)
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
FLASK = [str(Path(sys.executable).with_name("flask"))]


def environment(tmp_path, **settings_given) -> dict:
    """The process environment with only these of the app's settings set (and a HOME of
    the test's own, so nothing is written to the real one)."""
    env = {key: val for key, val in os.environ.items() if key not in settings.SETTINGS}
    return {
        **env,
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'settings.db'}",
        **settings_given,
    }


def run(command, env, cwd=ROOT, seconds=20) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=seconds
    )


A_FILE = "<a file>"  # replaced by the path of a regular file of the test's own
# Every documented setting, with values it refuses.
BAD_VALUES = [
    ("APP_ENV", "staging"),
    ("DATABASE_URL", "mysql://somewhere/todo"),
    ("DATABASE_URL", "postgresql://todo@db.example.com:54x2/todo"),
    ("JWT_SECRET_KEY", "too-short"),
    ("BETTER_AUTH_SECRET", "<the output of openssl rand -base64 32>"),
    ("JWT_ACCESS_TOKEN_EXPIRES", "a-week"),
    ("JWT_LEEWAY_SECONDS", "600"),
    ("DB_POOL_SIZE", "five"),
    ("DB_MAX_OVERFLOW", "-1"),
    ("DB_POOL_RECYCLE", "0"),
    ("DB_POOL_PRE_PING", "maybe"),
    ("DB_PING_IDLE_SECONDS", "soon"),
    ("DB_CONNECT_TIMEOUT", "0"),
    ("DB_STATEMENT_TIMEOUT", "1.5"),
    ("DB_MIGRATION_LOCK_TIMEOUT", "soon"),
    ("DB_POOL_TIMEOUT", "forever"),
    ("ARGON2_TIME_COST", "0"),
    ("ARGON2_MEMORY_COST", "4"),
    ("ARGON2_PARALLELISM", "all"),
    ("CORS_ORIGINS", "app.example.com"),
    ("LOG_LEVEL", "loud"),
    ("RATELIMIT_ENABLED", "maybe"),
    ("RATELIMIT_STORAGE_URI", "memcached://127.0.0.1:11211"),
    ("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:redis/0"),
    ("RATELIMIT_STORAGE_TIMEOUT", "-1"),
    ("RATELIMIT_STORAGE_RETRY", "later"),
    ("RATELIMIT_KEY_PREFIX", "todo staging"),
    ("RATELIMIT_LOGIN_PER_EMAIL_AND_ADDRESS", "five-a-minute"),
    ("RATELIMIT_LOGIN_PER_EMAIL", "100 an hour"),
    ("RATELIMIT_CALENDAR_PER_SUBSCRIPTION", "every minute"),
    ("RATELIMIT_LOGIN_PER_ADDRESS", "30"),
    ("RATELIMIT_LOGINS_PER_ADDRESS", "sixty"),
    ("RATELIMIT_INVITATIONS_PER_OWNER", "fifty a day"),
    ("RATELIMIT_SIGNUP_PER_ADDRESS", "per hour"),
    ("RATELIMIT_PASSWORD_CHECK_PER_USER", "5 per fortnight"),
    ("RATELIMIT_BUDGET", "3000 per 15 minutes; 10 per second"),
    ("RATELIMIT_BUDGET_FEED", "lots"),
    ("RATELIMIT_BUDGET_BATCH", "0 per hour"),
    ("RATELIMIT_BUDGET_STREAM", "120"),
    ("RATELIMIT_BUDGET_SLICE", "0"),
    ("TRASH_RETENTION_DAYS", "-1"),
    ("FEED_RETENTION_DAYS", "0"),
    ("IMPORT_INLINE_BYTES", "64k"),
    ("IMPORT_JOBS_PER_USER", "0"),
    ("WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/33"),
    ("WEBHOOK_TIMEOUT", "0"),
    ("WEBHOOK_NAMESERVERS", "resolver.example.com"),
    ("WEBHOOK_RETRY_SCHEDULE", "5,never"),
    ("WEBHOOK_LEASE_SECONDS", "0.5"),
    ("WEBHOOK_POLL_SECONDS", "often"),
    ("TRUSTED_PROXIES", "all"),
    ("METRICS_TOKEN", "short"),
    ("PROMETHEUS_MULTIPROC_DIR", f"{A_FILE}/metrics"),
    ("PORT", "80a"),
    ("WEB_CONCURRENCY", "two"),
    ("GUNICORN_THREADS", "0"),
    ("GUNICORN_REUSE_PORT", "sometimes"),
    ("CONNECTIONS_PER_ADDRESS", "many"),
    ("REQUEST_READ_TIMEOUT", "0"),
    ("REQUEST_QUEUE_TIMEOUT", "0"),
    ("DRAIN_SECONDS", "-5"),
    ("LIVE_HEARTBEAT_SECONDS", "30"),
    ("LIVE_FALLBACK_SECONDS", "0"),
    ("LIVE_PER_USER", "0"),
    ("LIVE_PER_WORKER", "lots"),
    ("EXPORTS_PER_USER", "0"),
    ("EXPORTS_PER_WORKER", "2.5"),
]
BAD_VALUE_IDS = [f"{name}={raw}" for name, raw in BAD_VALUES]


def test_every_setting_has_bad_values_tested():
    assert {name for name, _ in BAD_VALUES} == set(settings.SETTINGS)


def with_bad_value(tmp_path, name: str, raw: str) -> tuple[dict, str]:
    """The environment with `name` set to `raw` (a file made for A_FILE), and the value."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    raw = raw.replace(A_FILE, str(a_file))
    return environment(tmp_path, **{"JWT_SECRET_KEY": SECRET, name: raw}), raw


def assert_refused_in_one_line(finished, name: str, raw: str):
    assert finished.returncode == 2, finished.stderr
    [line] = finished.stderr.splitlines()
    logged = json.loads(line)
    assert logged["level"] == "error"
    message = logged["message"]
    assert message.startswith(f"{name}={raw!r} is not valid: ")
    assert f"; e.g. {name}=" in message
    assert finished.stdout == ""


@pytest.mark.parametrize(("name", "raw"), BAD_VALUES, ids=BAD_VALUE_IDS)
def test_a_malformed_setting_stops_the_server_with_one_line_naming_it(tmp_path, name, raw):
    env, raw = with_bad_value(tmp_path, name, raw)
    assert_refused_in_one_line(run(SERVER, env), name, raw)


@pytest.mark.parametrize(("name", "raw"), BAD_VALUES, ids=BAD_VALUE_IDS)
def test_a_malformed_setting_stops_flask_commands_with_one_line_naming_it(tmp_path, name, raw):
    env, raw = with_bad_value(tmp_path, name, raw)
    assert_refused_in_one_line(run([*FLASK, "db", "current"], env), name, raw)


@pytest.mark.parametrize(
    ("name", "raw"),
    [("DB_POOL_SIZE", "five"), ("DATABASE_URL", "mysql://somewhere/todo"), ("PORT", "80a")],
)
def test_gunicorn_started_directly_checks_the_settings_too(tmp_path, name, raw):
    """`gunicorn -c gunicorn.conf.py wsgi:app` (the bench's command) reads every setting
    through settings.py as well; only WEB_CONCURRENCY in the process environment is gunicorn's
    before it is ours (server/__main__.py)."""
    env, raw = with_bad_value(tmp_path, name, raw)
    assert_refused_in_one_line(run(GUNICORN, env), name, raw)


def test_a_metrics_directory_that_cannot_be_made_stops_the_server(tmp_path):
    """Only trying tells whether a directory can be made (root may write anywhere but in
    /proc): the server tries before it forks a worker, and says which setting failed."""
    raw = "/proc/todo-metrics"
    env = environment(
        tmp_path, JWT_SECRET_KEY=SECRET, METRICS_TOKEN=SECRET, PROMETHEUS_MULTIPROC_DIR=raw
    )
    assert_refused_in_one_line(run(SERVER, env), "PROMETHEUS_MULTIPROC_DIR", raw)


def test_a_missing_secret_stops_gunicorn_in_production_with_one_line(tmp_path):
    finished = run(SERVER, environment(tmp_path, APP_ENV="production"))
    assert finished.returncode == 2
    [line] = finished.stderr.splitlines()
    assert json.loads(line)["message"].startswith("JWT_SECRET_KEY is not set")


def test_migrations_need_only_the_database_settings(tmp_path):
    env = environment(tmp_path, APP_ENV="production")
    upgraded = run([*FLASK, "db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    current = run([*FLASK, "db", "current"], env)
    assert current.returncode == 0, current.stderr
    assert "(head)" in current.stdout


@pytest.fixture
def project_copy(tmp_path):
    """The project's code in a directory of its own, to give it a `.env` of the test's."""
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns(".venv", ".git", "instance", "__pycache__", "*.db", ".env")
    shutil.copytree(ROOT, copy, ignore=ignore)
    return copy


def test_gunicorn_reads_its_settings_from_dot_env(tmp_path, project_copy):
    port = free_port()
    (project_copy / ".env").write_text(
        f"PORT={port}\nWEB_CONCURRENCY=3\nGUNICORN_THREADS=2\nJWT_SECRET_KEY={SECRET}\n"
        f"APP_ENV=production\nDATABASE_URL=sqlite:///{tmp_path / 'dotenv.db'}\n"
    )
    env = environment(tmp_path)
    del env["DATABASE_URL"]  # from .env, like everything else here
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(SERVER, cwd=project_copy, env=env, stdout=log, stderr=log)
    try:
        answer = wait_for_health(port, server)
        assert answer == {"status": "ok"}
        logged = [json.loads(line) for line in (tmp_path / "gunicorn.log").read_text().splitlines()]
        booted = [line for line in logged if line["message"].startswith("Booting worker")]
        assert len(booted) == 3
        assert not any("ontrol socket" in line["message"] for line in logged)
        assert not (tmp_path / ".gunicorn").exists()
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def wait_for_health(port: int, process, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                return json.loads(answer.read())
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server never answered")


def test_flask_run_logs_one_json_line_per_request(tmp_path):
    port = free_port()
    env = environment(tmp_path, JWT_SECRET_KEY=SECRET, APP_ENV="production")
    log = (tmp_path / "flask.log").open("w")
    server = subprocess.Popen(
        [*FLASK, "run", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        wait_for_health(port, server)
    finally:
        server.terminate()
        server.wait(10)
        log.close()
    lines = (tmp_path / "flask.log").read_text().splitlines()
    about_the_request = [line for line in lines if "/healthz" in line]
    assert len(about_the_request) == 1
    assert json.loads(about_the_request[0])["path"] == "/healthz"
    assert "\x1b[" not in "".join(lines)  # no terminal colour codes in the log


def test_the_configuration_table_and_env_example_are_the_settings_code():
    guide = settings.CONFIGURATION_GUIDE.read_text()
    assert settings.with_table(guide) == guide, "run `python settings.py --write`"
    assert (ROOT / ".env.example").read_text() == settings.env_example()


def served_log(tmp_path, project=ROOT, **settings_given) -> list[dict]:
    """The lines a server started with these settings logs while it starts, answers
    /healthz once and stops."""
    tmp_path.mkdir(exist_ok=True)
    port = free_port()
    env = environment(tmp_path, JWT_SECRET_KEY=SECRET, PORT=str(port), **settings_given)
    path = tmp_path / "server.log"
    with path.open("w") as log:
        server = subprocess.Popen(SERVER, cwd=project, env=env, stdout=log, stderr=log)
        try:
            wait_for_health(port, server)
        finally:
            server.terminate()
            server.wait(30)
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_log_level_warning_writes_no_info_line_from_the_start(tmp_path):
    """gunicorn's own lines ("Booting worker…") and the app's as it is imported too."""
    assert any(line["level"] == "info" for line in served_log(tmp_path / "info"))
    logged = served_log(tmp_path / "warning", LOG_LEVEL="warning")
    assert [line for line in logged if line["level"] in ("debug", "info")] == []


def test_only_the_count_files_of_an_earlier_run_leave_the_metrics_directory(tmp_path):
    """PROMETHEUS_MULTIPROC_DIR pointed at a directory holding other things by mistake: the
    server removes prometheus_client's files of an earlier run, and nothing else."""
    directory = tmp_path / "metrics"
    (directory / "history").mkdir(parents=True)
    earlier = ["counter_12345.db", "gauge_livesum_12345.db", "histogram_12345.db"]
    others = ["notes.txt", "data.db", "counter_backup.db", "history/counter_1.db"]
    for name in earlier + others:
        (directory / name).write_text("kept?")
    served_log(tmp_path, METRICS_TOKEN=SECRET, PROMETHEUS_MULTIPROC_DIR=str(directory))
    assert not any((directory / name).exists() for name in earlier)
    assert all((directory / name).read_text() == "kept?" for name in others)
    assert list(directory.glob("counter_*.db")) != []  # this run counted here
