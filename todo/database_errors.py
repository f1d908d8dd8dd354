"""How a failing database is answered: away, too slow, or at another migration than the code.

Every failure here is a problem+json answer (todo/errors.py's `problem`); none is a 500
unless it is a bug.
"""

import logging

import psycopg2
from flask import Flask
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from . import schema
from .errors import problem

log = logging.getLogger(__name__)

# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout.
QUERY_CANCELED = "57014"
# PostgreSQL's SQLSTATEs for a table, column or function the statement names and the
# database does not have.
UNDEFINED_OBJECTS = {"42P01", "42703", "42883"}


def missing_from_schema(error: Exception) -> bool:
    cause = getattr(error, "orig", None) or error
    return getattr(cause, "pgcode", None) in UNDEFINED_OBJECTS or "no such " in str(cause)


def schema_mismatch(error: Exception):
    """A statement found the schema without something it names: on a database that is not
    at the code's migration (never migrated, or behind), the readiness probe's 503, which
    says what to run; at the code's migration it is a bug (500). Logged either way."""
    log.error("database schema does not match the code", exc_info=error)
    wrong = schema.mismatch()
    if wrong is None:
        return problem(500)
    detail, revision = wrong
    return problem(503, detail, {"Retry-After": "5"}, revision=revision)


def database_error(error: ProgrammingError):
    """A statement the database refused: a schema that does not match (`schema_mismatch`),
    else a bug."""
    if missing_from_schema(error):
        return schema_mismatch(error)
    log.error("database refused a statement", exc_info=error)
    return problem(500)


def database_unavailable(error: Exception):
    """A refused, lost, stalled or exhausted connection is the database being away, not a bug;
    a statement that ran out of time is the request taking too long; SQLite names a missing
    table or column with the same error (`schema_mismatch`)."""
    cause = getattr(error, "orig", None) or error
    if missing_from_schema(error):
        return schema_mismatch(error)
    if getattr(cause, "pgcode", None) == QUERY_CANCELED:
        log.warning("statement timeout: %s", cause)
        return problem(
            503,
            "The request took too long: the database gave up on it; try again shortly.",
            {"Retry-After": "5"},
        )
    log.warning("database unavailable: %s", error)
    return problem(503, "The database is unavailable; try again shortly.", {"Retry-After": "5"})


# SQLAlchemy wraps what the driver raises, except on a few paths of its own (setting a
# transaction's isolation level on a checked-out connection): the driver's own errors too.
UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
)


def register(app: Flask) -> None:
    for unavailable in UNAVAILABLE:
        app.register_error_handler(unavailable, database_unavailable)
    app.register_error_handler(ProgrammingError, database_error)
