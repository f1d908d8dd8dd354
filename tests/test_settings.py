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


BAD_VALUES = {
    "RATELIMIT_LOGIN_PER_EMAIL": "five-a-minute",
    "DB_POOL_SIZE": "five",
    "DATABASE_URL": "mysql://somewhere/todo",
    "RATELIMIT_ENABLED": "maybe",
    "LOG_LEVEL": "loud",
    "PORT": "80a",
    "CORS_ORIGINS": "app.example.com",
}


@pytest.mark.parametrize("name", BAD_VALUES)
def test_a_malformed_setting_stops_gunicorn_with_one_line_naming_it(tmp_path, name):
    env = environment(tmp_path, JWT_SECRET_KEY=SECRET, **{name: BAD_VALUES[name]})
    finished = run(GUNICORN, env)
    assert finished.returncode == 2
    [line] = finished.stderr.splitlines()
    logged = json.loads(line)
    assert logged["level"] == "error"
    message = logged["message"]
    assert message.startswith(f"{name}={BAD_VALUES[name]!r} is not valid: ")
    assert f"; e.g. {name}=" in message
    assert finished.stdout == ""


def test_a_missing_secret_stops_gunicorn_in_production_with_one_line(tmp_path):
    finished = run(GUNICORN, environment(tmp_path, APP_ENV="production"))
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


def test_a_malformed_setting_stops_flask_commands_too(tmp_path):
    finished = run([*FLASK, "db", "current"], environment(tmp_path, DB_POOL_SIZE="-1"))
    assert finished.returncode == 2
    [line] = finished.stderr.splitlines()
    assert json.loads(line)["message"].startswith("DB_POOL_SIZE='-1' is not valid")


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
    server = subprocess.Popen(GUNICORN, cwd=project_copy, env=env, stdout=log, stderr=log)
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


def test_the_readme_table_and_env_example_are_the_settings_code():
    readme = (ROOT / "README.md").read_text()
    assert settings.readme_with_table(readme) == readme, "run `python settings.py --write`"
    assert (ROOT / ".env.example").read_text() == settings.env_example()
