"""The suite's services: scratch databases (a SQLite file, and a PostgreSQL database made and
dropped), and Redis.

PostgreSQL comes from TEST_DATABASE_URL (a server the role can CREATE DATABASE on). Without it,
the PostgreSQL half of the suite is skipped and says so; under CI it is required.
"""

import functools
import os
import secrets
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from config import normalise_database_url

# PostgreSQL directly, and through a transaction-mode PgBouncer (tests/pgbouncer.py).
KINDS = ["sqlite", "postgresql", "pgbouncer"]


def service_url(variable: str, name: str, probe, errors) -> str:
    """The URL in `variable` if its service answers `probe`; without it the test is skipped,
    saying why, and under CI=true it fails instead: CI never skips a service silently."""
    url = os.environ.get(variable)
    required = os.environ.get("CI", "").lower() == "true"
    give_up = functools.partial(pytest.fail, pytrace=False) if required else pytest.skip
    if not url:
        give_up(f"{name} tests need {variable}")
    try:
        probe(url)
    except errors as error:
        give_up(f"{name} at {variable} is unreachable: {error}")
    return url


def ping_postgresql(url: str) -> None:
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()


def ping_redis(url: str) -> None:
    with redis.Redis.from_url(url) as connection:
        connection.ping()


def server_url() -> str:
    """The PostgreSQL server to make scratch databases on."""
    url = service_url("TEST_DATABASE_URL", "PostgreSQL", ping_postgresql, OperationalError)
    return normalise_database_url(url)


# The suite's apps run with DB_STATEMENT_TIMEOUT at its default, 30 s.
STATEMENT_TIMEOUT_MS = 30_000


def bound_statements(admin_connection, database: str, milliseconds: int) -> None:
    """Set the statement_timeout of the database's new sessions, as an operator does for the
    app's role; sessions already open keep theirs."""
    admin_connection.execute(
        text(f'ALTER DATABASE "{database}" SET statement_timeout = {int(milliseconds)}')
    )


@contextmanager
def scratch_database(kind: str, directory: Path):
    """Yield the URL of a new, empty database of this kind; drop it afterwards."""
    name = f"todo_test_{secrets.token_hex(4)}"
    if kind == "sqlite":
        yield f"sqlite:///{directory / name}.db"
        return
    admin = create_engine(server_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # What the operator sets once for the app (docs/deploying.md): the statement bound.
        bound_statements(connection, name, STATEMENT_TIMEOUT_MS)
    try:
        yield make_url(server_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
