"""Scratch databases for the suite: a SQLite file, and a PostgreSQL database made and dropped.

PostgreSQL comes from TEST_DATABASE_URL (a server the role can CREATE DATABASE on). Without it,
the PostgreSQL half of the suite is skipped and says so; under CI it is required.
"""

import os
import secrets
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from config import normalise_database_url

KINDS = ["sqlite", "postgresql"]


def server_url():
    """The PostgreSQL server to make scratch databases on, or a skip/fail saying why not."""
    url = os.environ.get("TEST_DATABASE_URL")
    required = os.environ.get("CI", "").lower() == "true"
    if not url:
        if required:
            pytest.fail("CI=true but TEST_DATABASE_URL is not set", pytrace=False)
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    url = normalise_database_url(url)
    try:
        with create_engine(url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        if required:
            pytest.fail(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {error}", pytrace=False)
        pytest.skip(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {error.orig}")
    return url


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
    try:
        yield make_url(server_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
