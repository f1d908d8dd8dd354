"""Fixtures: one migrated app per database kind, emptied after every test; users and tokens."""

from collections import Counter

import pytest
import redis
from flask_migrate import upgrade
from sqlalchemy import event, select, text

from config import TestingConfig
from tests.databases import KINDS, ping_redis, scratch_database, server_url, service_url
from tests.pgbouncer import PgBouncer
from tests.servers import Server
from todo import create_app
from todo.extensions import db
from todo.tasks.models import Task

PASSWORD = "password123"
FUZZ_CASES = Counter()  # generated cases per operation, counted by test_fuzz


def pytest_terminal_summary(terminalreporter):
    if FUZZ_CASES:
        terminalreporter.section("schemathesis cases per operation")
        for operation, count in sorted(FUZZ_CASES.items()):
            terminalreporter.write_line(f"{count:5d}  {operation}")


@pytest.fixture(scope="session", params=KINDS)
def database_kind(request):
    return request.param


@pytest.fixture(scope="session")
def pgbouncer():
    """The suite's PgBouncer in transaction mode, started when a test first needs it."""
    bouncer = PgBouncer(server_url())
    yield bouncer
    bouncer.stop()


@pytest.fixture(scope="session")
def migrated_app(database_kind, tmp_path_factory, request):
    """An app on a scratch database brought to head by the migrations, as in production
    (for the "pgbouncer" kind, all of it through PgBouncer)."""
    with scratch_database(database_kind, tmp_path_factory.mktemp("db")) as url:
        if database_kind == "pgbouncer":
            url = request.getfixturevalue("pgbouncer").url_for(url)
        app = create_app(TestingConfig(url))
        with app.app_context():
            upgrade()
        yield app
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def make_app(migrated_app, app):
    """Another app on the same migrated database, with some settings changed; `app` is used
    too, so the rows it leaves are deleted after the test."""
    made = []

    def make(**settings):
        config = TestingConfig(migrated_app.config["SQLALCHEMY_DATABASE_URI"])
        for name, value in settings.items():
            setattr(config, name, value)
        made.append(create_app(config))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def app(migrated_app):
    """The migrated app; every row is deleted after the test, so each starts clean. On
    PostgreSQL by TRUNCATE: a DELETE of a test's 10,000 tasks fires the counting trigger per
    row against one users row, seconds of work that a loaded CI machine took past the
    statement timeout."""
    yield migrated_app
    with migrated_app.app_context():
        tables = reversed(db.metadata.sorted_tables)
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(table.name for table in tables)
            db.session.execute(text(f"TRUNCATE {names}"))
        else:
            for table in tables:
                db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(client):
    """Sign up and log in through the API; returns the login answer plus auth headers."""

    def make(email="test@example.com", password=PASSWORD):
        assert (
            client.post("/api/auth/signup", json={"email": email, "password": password}).status_code
            == 201
        )
        login = client.post("/api/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200
        body = login.get_json()
        return {**body, "headers": {"Authorization": f"Bearer {body['token']}"}}

    return make


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def other_user(make_user):
    return make_user("user2@example.com")


def person(name: str):
    """A fixture named `name`: a new user, name@example.com."""
    return pytest.fixture(lambda make_user: make_user(f"{name}@example.com"), name=name)


# The people of a shared list, for the sharing tests (docs/sharing.md): its owner, its
# members by role, and someone it is not shared with.
owner, member, editor, viewer, stranger = map(
    person, ("owner", "member", "editor", "viewer", "stranger")
)


def assert_problem(answer, status: int) -> dict:
    """`answer` is a problem+json of `status`, with a detail; its body."""
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.content_type == "application/problem+json"
    body = answer.get_json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.fixture
def tasks_url(user):
    return f"/api/{user['user_id']}/tasks"


@pytest.fixture
def task(client, user):
    """A task of `user`, created through the API."""
    answer = client.post(
        f"/api/{user['user_id']}/tasks",
        json={"title": "Buy groceries", "description": "Milk, eggs, bread"},
        headers=user["headers"],
    )
    assert answer.status_code == 201
    return answer.get_json()


@pytest.fixture
def task_url(user, task):
    return f"/api/{user['user_id']}/tasks/{task['id']}"


@pytest.fixture
def sent_statements(app):
    """The SQL the app sends while the test runs, as sent (a list the test may clear)."""
    sent = []

    def record(_connection, _cursor, statement, *_):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def stored_tasks(app):
    """The tasks table as the database has it, to check what a request did (or did not) write."""

    def read():
        with app.app_context():
            return db.session.scalars(select(Task).order_by(Task.created_at)).all()

    return read


@pytest.fixture
def redis_url():
    """TEST_REDIS_URL if that Redis answers; skipped without it, a failure under CI."""
    return service_url("TEST_REDIS_URL", "Redis", ping_redis, redis.RedisError)


def migrated(kind: str, tmp_path):
    """A scratch database of `kind` of the test's own, migrated, for servers to share."""
    with scratch_database(kind, tmp_path) as url:
        app = create_app(TestingConfig(url))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield url


@pytest.fixture
def database_url(tmp_path):
    """A migrated scratch PostgreSQL database of this test's own, for servers to share."""
    yield from migrated("postgresql", tmp_path)


@pytest.fixture
def sqlite_file_url(tmp_path):
    """A migrated SQLite file of this test's own, for servers to share."""
    yield from migrated("sqlite", tmp_path)


@pytest.fixture
def servers(tmp_path):
    """Start real gunicorn servers (tests/servers.py); each is stopped after the test."""
    started = []

    def start(database_url, **settings):
        started.append(Server(database_url, tmp_path / f"gunicorn-{len(started)}.log", **settings))
        return started[-1]

    yield start
    for server in started:
        server.stop()
