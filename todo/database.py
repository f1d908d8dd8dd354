"""How the app uses its database connections.

Each statement commits on its own (DBAPI autocommit): every read and every write of this API
is one statement, so a request spends no round trips on BEGIN and COMMIT or ROLLBACK. The few
writes of several statements that must land together run inside `transaction()`.
"""

import json
import sqlite3
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy import Row, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DisconnectionError

from .compiled_statements import CompiledStatement, compile_statement, run_in_turn
from .extensions import db
from .timestamps import utc_text

# Each database's own default, which autocommit otherwise bypasses.
TRANSACTION_ISOLATION = {"postgresql": "READ COMMITTED", "sqlite": "SERIALIZABLE"}


def dialect_insert(table, dialect: str):
    """An INSERT with the database's own ON CONFLICT clauses (on_conflict_do_nothing,
    on_conflict_do_update), which both PostgreSQL and SQLite have."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def statement_rows(statement, parameters: dict) -> list[Row]:
    """All the rows of one statement (a read, or a write that returns its rows), on a pooled
    connection of the engine's, outside the session.

    A statement that runs alone needs none of the ORM session's work: a session to make, a
    transaction of it to begin and bind a connection to, then to close at teardown (~6% of a
    20-task list's CPU, ~6% of a create's, py-spy); on PostgreSQL, none of Core's either
    (compiled_statements.py). The connection comes from the same pool, with the same events
    (statement timeout, ping) and DBAPI autocommit, so a write commits as it runs, as it did
    through the session. When this request's session already holds a connection (it read
    the account, or runs `transaction()`), the statement runs on that one: a request never
    holds two connections at once, and a read sees its transaction's writes."""
    return rows_in_turn([(statement, parameters)])[0]


def rows_of_each(statement, parameter_sets) -> list[list[Row]]:
    """The rows of one statement run once for each of `parameter_sets` (`rows_in_turn`)."""
    return rows_in_turn([(statement, parameters) for parameters in parameter_sets])


def rows_in_turn(runs: list) -> list[list[Row]]:
    """The rows of each (statement, parameters) of `runs`, in turn, each run as
    `statement_rows` runs it: a statement of its own, all on one connection (one pool
    checkout for them all)."""
    if db.session.registry.has() and db.session().in_transaction():
        return [db.session.execute(statement, parameters).all() for statement, parameters in runs]
    return runs_alone(db.engine, runs)


def run_alone(engine: Engine, statement, parameters: dict) -> list[Row]:
    """All the rows of one statement on a pooled connection of `engine`'s (autocommit)."""
    return runs_alone(engine, [(statement, parameters)])[0]


def runs_alone(engine: Engine, runs: list) -> list[list[Row]]:
    """The rows of each (statement, parameters) of `runs` on one pooled connection of
    `engine`'s (autocommit): compiled once where they can be (`cached_statement`), else
    through Core."""
    compiled = [cached_statement(engine, statement) for statement, _ in runs]
    if None not in compiled:
        compiled_runs = zip(compiled, (parameters for _, parameters in runs), strict=True)
        return run_in_turn(engine, list(compiled_runs))
    with engine.connect() as connection:
        return [connection.execute(statement, parameters).all() for statement, parameters in runs]


# Each dialect's statements, compiled on first use (None: Core runs the statement).
COMPILED_STATEMENTS: "WeakKeyDictionary[Dialect, dict]" = WeakKeyDictionary()


def cached_statement(engine: Engine, statement) -> CompiledStatement | None:
    dialect = engine.dialect
    if dialect.name != "postgresql":
        return None  # SQLite's statements cost little beside the file; Core keeps its conversions
    compiled = COMPILED_STATEMENTS.get(dialect)
    if compiled is None:
        compiled = COMPILED_STATEMENTS.setdefault(dialect, {})
    if statement not in compiled:
        compiled[statement] = compile_statement(engine, statement)
    return compiled[statement]


def first_row(statement, parameters: dict) -> Row | None:
    """The first row of one statement (`statement_rows`), or None."""
    rows = statement_rows(statement, parameters)
    return rows[0] if rows else None


def first_value(statement, parameters: dict):
    """The first column of the first row of one statement (`statement_rows`), or None."""
    row = first_row(statement, parameters)
    return None if row is None else row[0]


@contextmanager
def transaction():
    """Run the block in one real transaction, on a connection of its own; commit at the end,
    roll back on any error. Not reentrant. On SQLite it takes the database's write lock at
    once (BEGIN IMMEDIATE): the driver would begin only at the first write, leaving the reads
    before it, and any SAVEPOINT, outside the transaction."""
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("transaction() would discard the session's pending changes")
    db.session.close()  # give back the autocommit connection; ORM objects stay usable
    dialect = db.engine.dialect.name
    try:
        connection = db.session.connection(
            execution_options={"isolation_level": TRANSACTION_ISOLATION[dialect]}
        )
    except db.engine.dialect.loaded_dbapi.Error as error:
        # Setting the isolation level is a path on which SQLAlchemy neither wraps the driver's
        # error nor, for a lost connection, replaces the pool's connections as it does on
        # every other path: they would go back to the pool, and fail every transaction begun
        # on them after.
        if db.engine.dialect.is_disconnect(error, None, None):
            db.session().invalidate()
            db.engine.dispose()
        raise
    if dialect == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
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
        dbapi_connection.create_function("local_wall", 2, local_wall, deterministic=True)
        dbapi_connection.create_function("app_json", 1, app_json, deterministic=True)
        dbapi_connection.create_function("answer_time", 1, sqlite_answer_time, deterministic=True)


def app_json(text: str | None) -> str | None:
    """JSON text as SQLAlchemy's JSON type writes it (json.dumps): a value built in SQL
    (json_group_array writes `["a","b"]`) then compares equal, as text, to the same value
    bound from Python (`["a", "b"]`), and a write of it is seen to change nothing."""
    return None if text is None else json.dumps(json.loads(text))


def sqlite_answer_time(stored_utc: str | None) -> str | None:
    """A stored UTC timestamp as answers give it: what PostgreSQL's `to_char` gives
    columns.answer_time."""
    if stored_utc is None:
        return None
    return utc_text(datetime.fromisoformat(stored_utc).replace(tzinfo=UTC))


def unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def local_wall(stored_utc: str | None, zone_name: str) -> str | None:
    """`YYYY-MM-DD HH:MM:SS` of a stored UTC timestamp on the wall clocks of an IANA zone:
    what PostgreSQL's `AT TIME ZONE` gives the due-date sort (tasks/listing.py)."""
    if stored_utc is None:
        return None
    moment = datetime.fromisoformat(stored_utc).replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone_name)).strftime("%Y-%m-%d %H:%M:%S")
