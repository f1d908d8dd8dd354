"""Statements run on the DBAPI cursor (todo/compiled_statements.py) give the rows Core gives."""

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from todo.database import cached_statement
from todo.extensions import db
from todo.tasks.models import ANSWER_ROW, tasks

STAMPED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "due_at, last_completed_at",
    [(None, None), (STAMPED, None), (None, STAMPED), (STAMPED, STAMPED)],
    ids=["both-null", "due-only", "last-only", "both"],
)
def test_compiled_rows_equal_cores(app, user, task, due_at, last_completed_at):
    """Whichever of the converted columns are NULL (a row whose are all NULL is taken as it
    comes, any other has each converted), the rows are Core's, down to each value's zone."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("only PostgreSQL's statements are compiled (database.cached_statement)")
        db.session.execute(
            tasks.update()
            .where(tasks.c.user_id == user["user_id"])
            .values(
                due_date=date(2026, 12, 1) if due_at else None,
                due_time=time(9, 30) if due_at else None,
                due_timezone="UTC" if due_at else None,
                due_at=due_at,
                recurrence_last_completed_at=last_completed_at,
            )
        )
        db.session.commit()
        statement = select(*ANSWER_ROW).where(tasks.c.user_id == user["user_id"])
        compiled = cached_statement(db.engine, statement)
        assert compiled is not None
        for _ in range(2):  # the first run works out the conversions, later ones reuse them
            rows = compiled.run(db.engine, {})
            with db.engine.connect() as connection:
                # repr: a datetime equals another of the same instant in any zone
                assert [repr(tuple(row)) for row in rows] == [
                    repr(tuple(row)) for row in connection.execute(statement).all()
                ]
        assert (rows[0].due_at, rows[0].recurrence_last_completed_at) == (due_at, last_completed_at)
