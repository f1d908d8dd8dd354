"""What operators rely on: liveness and readiness probes, one JSON log line per request."""

import json
import logging
import re
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from config import TestingConfig
from logs import REQUEST_FIELDS, JSONFormatter
from tests.databases import scratch_database
from todo import create_app
from todo.extensions import db

MIGRATIONS = ScriptDirectory(str(Path(__file__).resolve().parent.parent / "migrations"))
HEAD = MIGRATIONS.get_current_head()
UNREACHABLE = {
    "postgresql": "postgresql://root@127.0.0.1:1/todo",
    "pgbouncer": "postgresql://root@127.0.0.1:1/todo",  # the pooler itself down
}


@pytest.fixture
def dead_database_client(database_kind, tmp_path):
    """A client of an app whose database went away after it started: a server that refuses
    connections, or a SQLite file's directory that is gone (an unmounted volume)."""
    if database_kind != "sqlite":
        return create_app(TestingConfig(UNREACHABLE[database_kind])).test_client()
    volume = tmp_path / "volume"
    volume.mkdir()
    client = create_app(TestingConfig(f"sqlite:///{volume / 'todo.db'}")).test_client()
    volume.rmdir()
    return client


def test_liveness_and_readiness_are_200_with_a_database(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok", "revision": HEAD}
    assert "Retry-After" not in answer.headers


def test_readiness_is_503_on_a_database_never_migrated(tmp_path):
    client = create_app(TestingConfig(f"sqlite:///{tmp_path / 'unmigrated.db'}")).test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["revision"] is None
    assert body["detail"] == (
        f"The database has no schema; this code needs revision {HEAD}: run `flask db upgrade`."
    )
    assert answer.headers["Retry-After"] == "5"


def test_readiness_is_503_on_a_database_behind_the_code(migrated_app):
    client = migrated_app.test_client()
    with migrated_app.app_context():
        downgrade(revision="-1")
    try:
        answer = client.get("/readyz")
    finally:
        with migrated_app.app_context():
            upgrade()
    assert answer.status_code == 503
    previous = MIGRATIONS.get_revision(HEAD).down_revision
    assert answer.get_json()["revision"] == previous
    assert f"at revision {previous}; this code needs {HEAD}" in answer.get_json()["detail"]


def test_readiness_is_503_problem_when_the_database_is_unreachable(dead_database_client):
    answer = dead_database_client.get("/readyz")
    assert answer.status_code == 503
    assert answer.content_type == "application/problem+json"
    assert answer.headers["Retry-After"]


def test_liveness_does_not_need_the_database(dead_database_client):
    assert dead_database_client.get("/healthz").status_code == 200


def test_api_calls_are_503_problems_when_the_database_is_unreachable(dead_database_client):
    answer = dead_database_client.post(
        "/api/auth/login", json={"email": "a@example.com", "password": "password123"}
    )
    assert answer.status_code == 503
    assert answer.get_json()["detail"] == "The database is unavailable; try again shortly."


@pytest.fixture
def unmigrated_app(database_kind, tmp_path, request):
    """An app on an empty database of this kind (never migrated)."""
    with scratch_database(database_kind, tmp_path) as url:
        if database_kind == "pgbouncer":
            url = request.getfixturevalue("pgbouncer").url_for(url)
        app = create_app(TestingConfig(url))
        yield app
        with app.app_context():
            db.engine.dispose()


def assert_schema_problem(answer, revision):
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.content_type == "application/problem+json"
    assert answer.headers["Retry-After"] == "5"
    body = answer.get_json()
    assert body["revision"] == revision
    assert body["detail"].endswith("run `flask db upgrade`.")


def test_api_calls_on_a_database_never_migrated_are_the_readiness_503(unmigrated_app):
    client = unmigrated_app.test_client()
    credentials = {"email": "a@example.com", "password": "password123"}
    assert_schema_problem(client.post("/api/auth/signup", json=credentials), None)
    assert_schema_problem(client.post("/api/auth/login", json=credentials), None)
    assert client.get("/readyz").get_json()["detail"] == (
        f"The database has no schema; this code needs revision {HEAD}: run `flask db upgrade`."
    )


def test_api_calls_on_a_database_behind_the_code_are_the_readiness_503(migrated_app, user):
    """A database behind the code: since 0015 what is shared with a user is a table of its
    own (memberships), so at 0014 reading it finds the table missing. (An owner's task
    statements no longer ask list_members, only a member's do.)"""
    client = migrated_app.test_client()
    with migrated_app.app_context():
        downgrade(revision="0014")
    try:
        answer = client.get(f"/api/{user['user_id']}/memberships", headers=user["headers"])
    finally:
        with migrated_app.app_context():
            upgrade()
    assert_schema_problem(answer, "0014")


def test_database_errors_are_logged_without_their_parameters(tmp_path, caplog):
    client = create_app(TestingConfig(f"sqlite:///{tmp_path / 'unmigrated.db'}")).test_client()
    client.post("/api/auth/signup", json={"email": "a@example.com", "password": "password123"})
    logged = "\n".join(JSONFormatter().format(record) for record in caplog.records)
    assert "INSERT INTO user_emails" in logged  # the failing statement is there...
    assert "$argon2" not in logged and "a@example.com" not in logged  # ...its values are not


def request_lines(caplog):
    return [
        json.loads(JSONFormatter().format(record))
        for record in caplog.records
        if record.name == "todo.access"
    ]


def test_each_request_logs_one_json_line_with_its_user(client, user, task, caplog):
    caplog.set_level(logging.INFO, logger="todo.access")
    answer = client.get(
        f"/api/{user['user_id']}/tasks/{task['id']}?secret=1",
        headers={**user["headers"], "X-Request-ID": "trace-1"},
    )
    [line] = request_lines(caplog)
    assert line["method"] == "GET"
    assert line["path"] == f"/api/{user['user_id']}/tasks/{task['id']}"
    assert line["status"] == answer.status_code == 200
    assert line["request_id"] == "trace-1"
    assert line["user_id"] == user["user_id"]
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "info"


def test_log_lines_hold_no_token_or_password(client, caplog):
    caplog.set_level(logging.INFO, logger="todo.access")
    client.post("/api/auth/signup", json={"email": "a@example.com", "password": "password123"})
    login = client.post(
        "/api/auth/login", json={"email": "a@example.com", "password": "password123"}
    )
    client.get("/api/auth/me", headers={"Authorization": f"Bearer {login.get_json()['token']}"})
    text = "\n".join(JSONFormatter().format(record) for record in caplog.records)
    assert len(request_lines(caplog)) == 3
    assert "password123" not in text
    assert login.get_json()["token"] not in text
    assert request_lines(caplog)[0]["user_id"] is None


def served_lines(server) -> list[dict]:
    """The request lines a gunicorn server has written to its output so far."""
    lines = map(json.loads, Path(server.log.name).read_text().splitlines())
    return [line for line in lines if line["logger"] == "todo.access"]


def about(lines: list[dict], path: str) -> list[dict]:
    return [line for line in lines if line["path"] == path]


def test_a_served_requests_line_is_written_within_a_second_and_all_by_a_stop(servers, database_url):
    server = servers(database_url)
    assert server.call("GET", "/api/auth/me", headers={"X-Request-ID": "trace-7"})[0] == 401
    deadline = time.monotonic() + 5  # the worker writes its lines each second
    while not (lines := about(served_lines(server), "/api/auth/me")):
        assert time.monotonic() < deadline, "the line was not written"
        time.sleep(0.1)
    [line] = lines
    # The shape JSONFormatter gives a request's record, as caplog's tests above see it.
    assert list(line) == ["time", "level", "logger", "message", *REQUEST_FIELDS]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert line["level"] == "info" and line["message"] == "GET /api/auth/me 401"
    assert (line["status"], line["request_id"], line["user_id"]) == (401, "trace-7", None)
    for _ in range(5):
        assert server.call("GET", "/readyz")[0] == 200
    server.stop()  # at once: what is not written yet, the worker writes as it exits
    assert len(about(served_lines(server), "/readyz")) == 5


def test_a_server_logging_warnings_only_writes_no_request_lines(servers, database_url):
    server = servers(database_url, LOG_LEVEL="warning")
    assert server.call("GET", "/readyz")[0] == 200
    server.stop()
    assert served_lines(server) == []


def kill_pooled_connections(app, count: int = 1):
    """Terminate the server side of `count` pooled connections of the app's, as a restart
    would."""
    with app.app_context(), ExitStack() as held:
        connections = [held.enter_context(db.engine.connect()) for _ in range(count)]
        pids = [connection.scalar(text("SELECT pg_backend_pid()")) for connection in connections]
        admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for pid in pids:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


@pytest.fixture
def postgresql_only(database_kind):
    if database_kind == "sqlite":
        pytest.skip("a server that drops connections is PostgreSQL's case")
    if database_kind == "pgbouncer":
        pytest.skip("behind PgBouncer, the server's connections are PgBouncer's to replace")


def test_a_dropped_connection_that_idled_is_replaced_unseen(postgresql_only, make_app, user):
    client = make_app(DB_PING_IDLE_SECONDS=0.2).test_client()
    assert client.get("/api/auth/me", headers=user["headers"]).status_code == 200
    kill_pooled_connections(client.application)
    time.sleep(0.3)
    assert client.get("/api/auth/me", headers=user["headers"]).status_code == 200


# The account is read through the ORM session; the task list and a create on the DBAPI
# cursor (todo/compiled_statements.py), which must give dead connections up just the same:
# the one that failed, and the pool's others (a restart dropped them all).
@pytest.mark.parametrize(
    "method, path, body, done",
    [
        ("GET", "/api/auth/me", None, 200),
        ("GET", "/api/{user_id}/tasks", None, 200),
        ("POST", "/api/{user_id}/tasks", {"title": "Written once"}, 201),
    ],
)
def test_dropped_busy_connections_fail_one_request_only(
    postgresql_only, make_app, user, method, path, body, done
):
    client = make_app(DB_PING_IDLE_SECONDS=60).test_client()
    url = path.format(user_id=user["user_id"])
    assert client.open(url, method=method, json=body, headers=user["headers"]).status_code == done
    kill_pooled_connections(client.application, count=2)
    statuses = [
        client.open(url, method=method, json=body, headers=user["headers"]).status_code
        for _ in range(3)
    ]
    assert statuses == [503, done, done]
    if method == "POST":  # the failed create wrote nothing
        listed = client.get(f"/api/{user['user_id']}/tasks", headers=user["headers"])
        assert [task["title"] for task in listed.get_json()] == ["Written once"] * 3
