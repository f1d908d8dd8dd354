"""The completion history's reads: one user's entries, newest first, a keyset page at a time.
They take the caller and raise; the entries themselves are written by the tasks' triggers and
the task store (todo/tasks/revision.py)."""

import uuid
from datetime import datetime

from sqlalchemy import Integer, Row, String, Uuid, bindparam, cast, select, tuple_, type_coerce

from ..accounts.store import load_account
from ..accounts.tokens import OWNER, TOKEN_IS_CURRENT, Caller
from ..columns import UTCDateTime, UUIDText
from ..extensions import db
from ..tasks.models import task_completions

FROM_AT, TO_AT, TASK_ID, AFTER_AT, AFTER_ID, LIMIT = (
    "from_at",
    "to_at",
    "task_id",
    "after_at",
    "after_id",
    "limit",
)
ENTRY = (
    type_coerce(task_completions.c.id, UUIDText()).label("id"),
    type_coerce(task_completions.c.task_id, UUIDText()).label("task_id"),
    type_coerce(task_completions.c.completed_by, UUIDText()).label("completed_by"),
    task_completions.c.title,
    task_completions.c.completed_at,
    # As text (YYYY-MM-DD on both databases): what the answer carries.
    cast(task_completions.c.occurrence, String).label("occurrence"),
)
CONDITIONS = {
    FROM_AT: task_completions.c.completed_at >= bindparam(FROM_AT, type_=UTCDateTime),
    TO_AT: task_completions.c.completed_at < bindparam(TO_AT, type_=UTCDateTime),
    TASK_ID: task_completions.c.task_id == bindparam(TASK_ID, type_=Uuid),
    AFTER_AT: tuple_(task_completions.c.completed_at, task_completions.c.id)
    < tuple_(bindparam(AFTER_AT, type_=UTCDateTime), bindparam(AFTER_ID, type_=Uuid)),
}


def page_statement(used: tuple[str, ...]):
    """The caller's entries matching the conditions `used`, newest first, one more than the
    page (to tell whether another follows)."""
    return (
        select(*ENTRY)
        .where(
            task_completions.c.user_id == bindparam(OWNER, type_=Uuid),
            TOKEN_IS_CURRENT,
            *(CONDITIONS[name] for name in used),
        )
        .order_by(task_completions.c.completed_at.desc(), task_completions.c.id.desc())
        .limit(bindparam(LIMIT, type_=Integer))
    )


def completions_page(
    caller: Caller,
    limit: int,
    since: datetime | None = None,
    until: datetime | None = None,
    task_id: uuid.UUID | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> tuple[list[Row], bool]:
    """A page of the caller's completions (completed at `since` or later, before `until`, of
    one task), after the entry `after`; and whether more follow."""
    values = {FROM_AT: since, TO_AT: until, TASK_ID: task_id}
    parameters = {name: value for name, value in values.items() if value is not None}
    if after is not None:
        parameters[AFTER_AT], parameters[AFTER_ID] = after
    statement = page_statement(tuple(name for name in CONDITIONS if name in parameters))
    parameters.update(caller.parameters, **{LIMIT: limit + 1})
    rows = db.session.execute(statement, parameters).all()
    if not rows:
        load_account(caller)  # nothing: TokenNotCurrent if the token is why
    return rows[:limit], len(rows) > limit
