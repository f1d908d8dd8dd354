"""Faults on PostgreSQL: connections dropped or stalled, statements too slow, threads all busy.
Each is a 503 problem within a bound, never a 500 and never a hang."""

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import TestingConfig, normalise_database_url
from tests.databases import bound_statements, server_url
from tests.servers import create_task, request_in_flight, sign_in
from tests.tcp_proxy import TCPProxy
from tests.threads import answer_within
from todo import create_app
from todo.extensions import db


@pytest.fixture
def proxied_app(database_url):
    """An app whose database connections pass through a proxy the test can cut or stall;
    statements may run 1 s, connecting may take 1 s."""
    proxy = TCPProxy(5432)
    proxy.start()
    url = normalise_database_url(database_url).replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    assert str(proxy.port) in url

    def make(**settings):
        config = TestingConfig(url)
        for name, value in {"DB_STATEMENT_TIMEOUT": 1, "DB_CONNECT_TIMEOUT": 1, **settings}.items():
            setattr(config, name, value)
        return create_app(config)

    yield proxy, make
    proxy.resume()
    proxy.cut()


def test_readiness_is_503_not_500_when_its_connection_was_dropped(proxied_app):
    proxy, make = proxied_app
    app = make(DB_POOL_PRE_PING=False)
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    proxy.cut()
    proxy.restore()
    first = client.get("/readyz")
    assert first.status_code == 503
    assert first.content_type == "application/problem+json"
    assert [client.get("/readyz").status_code for _ in range(3)] == [200] * 3
    with app.app_context():
        db.engine.dispose()


def test_a_stalled_database_is_a_503_within_its_bound(proxied_app):
    """A path that takes connections and forwards nothing (a hung proxy, a frozen server):
    DB_STATEMENT_TIMEOUT + DB_CONNECT_TIMEOUT (here 1 + 1 s) for a pooled connection, then
    DB_CONNECT_TIMEOUT for each new one."""
    proxy, make = proxied_app
    app = make()
    client = app.test_client()
    signup = {"email": "stall@example.com", "password": "password123"}
    assert client.post("/api/auth/signup", json=signup).status_code == 201
    proxy.stall()
    try:
        answers = [answer_within(3, client.post, "/api/auth/login", json=signup) for _ in range(3)]
    finally:
        proxy.resume()
    for answer in answers:
        assert answer.status_code == 503, answer.get_json()
    assert client.post("/api/auth/login", json=signup).status_code == 200
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(params=["postgresql", "pgbouncer"])
def slow_statement_app(request, database_url):
    """An app whose statements may run 1 s (the database's statement_timeout, as the operator
    sets it): on the server directly, and through PgBouncer in transaction mode, where the
    limit must hold as well."""
    admin = create_engine(server_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        bound_statements(connection, make_url(database_url).database, 1000)
    admin.dispose()
    url = database_url
    if request.param == "pgbouncer":
        url = request.getfixturevalue("pgbouncer").url_for(database_url)
    config = TestingConfig(url)
    config.DB_STATEMENT_TIMEOUT = 1
    app = create_app(config)
    yield app
    with app.app_context():
        db.engine.dispose()


# What makes each kind of statement wait past its limit: a write, for the task's row; a read
# (run on the DBAPI cursor: todo/compiled_statements.py), for the whole table.
LOCKS = {
    "PUT": "SELECT 1 FROM tasks WHERE id = :id FOR UPDATE",
    "GET": "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE",
}


@pytest.mark.parametrize("method", LOCKS)
def test_a_statement_timeout_is_a_503_saying_the_request_took_too_long(
    slow_statement_app, database_url, method
):
    client = slow_statement_app.test_client()
    signup = {"email": "slow@example.com", "password": "password123"}
    client.post("/api/auth/signup", json=signup)
    login = client.post("/api/auth/login", json=signup).get_json()
    headers = {"Authorization": f"Bearer {login['token']}"}
    tasks = f"/api/{login['user_id']}/tasks"
    task = client.post(tasks, json={"title": "Locked"}, headers=headers).get_json()
    body = {"title": "Waits"} if method == "PUT" else None
    engine = create_engine(normalise_database_url(database_url))
    with engine.connect() as locker:
        locker.execute(text(LOCKS[method]), {"id": task["id"]})
        answer = client.open(f"{tasks}/{task['id']}", method=method, json=body, headers=headers)
        locker.rollback()
    engine.dispose()
    assert answer.status_code == 503
    assert answer.get_json()["detail"].startswith("The request took too long")
    assert answer.headers["Retry-After"]
    assert client.get(f"{tasks}/{task['id']}", headers=headers).status_code == 200


def test_requests_queued_past_the_bound_get_503_while_every_thread_is_busy(database_url, servers):
    server = servers(
        database_url, WEB_CONCURRENCY="1", GUNICORN_THREADS="1", REQUEST_QUEUE_TIMEOUT="1"
    )
    user_id, headers = sign_in(server)
    task = create_task(server, user_id, headers)
    queued = []
    # The only thread waits on the task's row while these arrive (not /healthz: the liveness
    # probe waits for a thread instead, server/running.py).
    with request_in_flight(server, database_url, user_id, headers, task):
        for _ in range(3):
            started = time.monotonic()
            status, answer_headers, body = server.call("GET", "/openapi.json", timeout=10)
            queued.append((status, time.monotonic() - started, answer_headers, body))
    for status, seconds, answer_headers, body in queued:
        assert status == 503
        assert seconds < 2
        assert answer_headers["Retry-After"] == "1"
        assert body["detail"].startswith("The server is busy")
    assert server.call("GET", "/healthz")[0] == 200


@pytest.mark.parametrize("kind", ["postgresql", "pgbouncer"])
@pytest.mark.parametrize("in_force", [True, False])
def test_an_app_warns_once_when_no_statement_bound_is_in_force(
    request, database_url, kind, in_force, caplog
):
    """The suite's databases carry the bound an operator sets (tests/databases.py), and the
    app says nothing of it; taken away, the app says so when it first connects, in one line
    that says what to run."""
    if not in_force:
        admin = create_engine(server_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            database = make_url(database_url).database
            connection.execute(text(f'ALTER DATABASE "{database}" RESET statement_timeout'))
        admin.dispose()
    url = database_url
    if kind == "pgbouncer":
        url = request.getfixturevalue("pgbouncer").url_for(database_url)
    app = create_app(TestingConfig(url))
    client = app.test_client()
    for _ in range(3):
        assert client.get("/readyz").status_code == 200
    with app.app_context():
        db.engine.dispose()
    warnings = [r.getMessage() for r in caplog.records if r.name == "todo.postgresql"]
    if in_force:
        assert warnings == []
        return
    assert len(warnings) == 1
    assert "statement_timeout for this app is none" in warnings[0]
    assert "ALTER ROLE" in warnings[0]
