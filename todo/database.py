"""How the app uses its database connections.

Each statement commits on its own (DBAPI autocommit): every read and every write of this API
is one statement, so a request spends no round trips on BEGIN and COMMIT or ROLLBACK. The few
writes of several statements that must land together run inside `transaction()`.
"""

import sqlite3
import time
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from .extensions import db

# Each database's own default, which autocommit otherwise bypasses.
TRANSACTION_ISOLATION = {"postgresql": "READ COMMITTED", "sqlite": "SERIALIZABLE"}


@contextmanager
def transaction():
    """Run the block in one real transaction, on a connection of its own; commit at the end,
    roll back on any error. Not reentrant. On SQLite the transaction starts at the block's
    first write (SQLite's deferred mode): callers write first."""
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("transaction() would discard the session's pending changes")
    db.session.close()  # give back the autocommit connection; ORM objects stay usable
    isolation = TRANSACTION_ISOLATION[db.engine.dialect.name]
    db.session.connection(execution_options={"isolation_level": isolation})
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        db.session.close()


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection before use if it sat idle longer than `idle_seconds`.

    A connection in steady use is alive; one that idled may have been dropped by the server,
    a proxy or a restart. If a busy connection dies anyway, the request using it fails (503)
    and SQLAlchemy invalidates the whole pool, so no dead connection reaches a second request.
    """

    @event.listens_for(engine, "checkin")
    def remember_idle_since(dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get("idle_since", 0) <= idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        except Exception as error:
            raise DisconnectionError("pooled connection failed its ping") from error


@event.listens_for(Engine, "connect")
def tune_sqlite(dbapi_connection, _record):
    """SQLite enforces foreign keys (ON DELETE CASCADE) only when asked, per connection;
    WAL and a busy timeout let several gunicorn workers share the file; and its lower()
    folds only ASCII, so Python's replaces it for case-insensitive search ("Äpfel")."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        for pragma in ("foreign_keys = ON", "journal_mode = WAL", "busy_timeout = 5000"):
            dbapi_connection.execute(f"PRAGMA {pragma}")
        dbapi_connection.create_function("lower", 1, unicode_lower, deterministic=True)


def unicode_lower(value):
    return value.lower() if isinstance(value, str) else value
