"""Whether the database's schema is the one this code was written for: the newest migration.

Asked by the readiness probe on every call, and by the error handlers when a statement finds
a table or column missing, so that an API call on a database not yet migrated (or migrated
behind the code) answers what the probe answers, a 503 naming the revision needed, instead of
a 500."""

from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError

from .database import transaction
from .extensions import db
from .postgresql import bound_statements

READ_TIMEOUT_MS = 2000
REVISION = text("SELECT version_num FROM alembic_version")


def init_app(app: Flask) -> None:
    """Remember the newest migration this code was written for (read from migrations/)."""
    directory = Path(app.root_path).parent / app.extensions["migrate"].directory
    app.extensions["schema_head"] = ScriptDirectory(str(directory)).get_current_head()


def revision() -> str | None:
    """The database's migration revision; None if it was never migrated. Read within
    READ_TIMEOUT_MS, so that a probe never holds a thread while a migration holds the table."""
    try:
        with transaction():
            bound_statements(db.session.connection(), READ_TIMEOUT_MS)
            return db.session.scalar(REVISION)
    except (OperationalError, ProgrammingError) as error:
        if "alembic_version" not in str(error.orig):  # not a missing table: the database
            raise
        return None


def mismatch() -> tuple[str, str | None] | None:
    """What is wrong with the schema, as a sentence, and the database's revision; None when
    it is the code's."""
    found, head = revision(), current_app.extensions["schema_head"]
    if found == head:
        return None
    if found is None:
        return (
            f"The database has no schema; this code needs revision {head}: run `flask db upgrade`.",
            None,
        )
    return (
        f"The database schema is at revision {found}; this code needs {head}: run "
        "`flask db upgrade`.",
        found,
    )
