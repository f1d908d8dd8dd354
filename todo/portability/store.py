"""The reads an export makes: everything a user owns, a keyset page at a time (in id order,
or the list query's own order), so an export of any size holds one page in memory. Like the
other stores it takes the caller, raises domain errors and knows no HTTP."""

import uuid
from collections.abc import Iterator

from sqlalchemy import Integer, Row, Uuid, bindparam, select, type_coerce

from ..accounts.store import load_account
from ..accounts.tokens import OWNER, Caller
from ..columns import UUIDText
from ..extensions import db
from ..labels.models import labels
from ..lists.models import lists
from ..tasks import reads
from ..tasks.listing import cursor_after, position
from ..tasks.models import ANSWER_ROW, task_completions, tasks

# Rows a page reads: a hundred KB or so, whatever the account's size, and the most one step
# of an export written by the serving worker writes (steps.py: a tenth of a second or so).
PAGE = 200
OWNER_ID = bindparam(OWNER, type_=Uuid)
AFTER, LIMIT = "after", "limit"


def id_text(table):
    return type_coerce(table.c.id, UUIDText()).label("id")


def paged(table, *columns):
    """The owner's rows of `table` after an id, in id order, a page at a time."""
    return (
        select(*columns)
        .where(table.c.user_id == OWNER_ID, table.c.id > bindparam(AFTER, type_=Uuid))
        .order_by(table.c.id)
        .limit(bindparam(LIMIT, type_=Integer))
    )


LIST_PAGE = paged(
    lists,
    id_text(lists),
    *(lists.c[name] for name in ("name", "position", "created_at", "updated_at", "deleted_at")),
)
LABEL_PAGE = paged(labels, id_text(labels), labels.c.name, labels.c.created_at)
TASK_PAGE = paged(tasks, *ANSWER_ROW)
COMPLETION_PAGE = paged(
    task_completions,
    id_text(task_completions),
    type_coerce(task_completions.c.task_id, UUIDText()).label("task_id"),
    task_completions.c.title,
    task_completions.c.completed_at,
    type_coerce(task_completions.c.completed_by, UUIDText()).label("completed_by"),
    task_completions.c.occurrence,
)
SECTIONS = {
    "lists": LIST_PAGE,
    "labels": LABEL_PAGE,
    "tasks": TASK_PAGE,
    "completions": COMPLETION_PAGE,
}
FIRST = uuid.UUID(int=0)


def account(caller: Caller):
    """The caller's account (TokenNotCurrent if the token no longer stands): checked once,
    before an export starts."""
    return load_account(caller)


def rows_of(caller: Caller, section: str) -> Iterator[list[Row]]:
    """Every row of one of SECTIONS the caller owns (live and in the trash), page by page."""
    statement, after = SECTIONS[section], FIRST
    while True:
        parameters = {OWNER: caller.space_id, AFTER: after, LIMIT: PAGE}
        rows = db.session.execute(statement, parameters).all()
        if rows:
            yield rows
        if len(rows) < PAGE:
            return
        after = uuid.UUID(rows[-1].id)


def matching_tasks(caller: Caller, query: dict) -> Iterator[list[Row]]:
    """The caller's tasks that match a list query (tasks/query_schemas.py), in its order,
    page after page through the list's own keyset pages."""
    query = {**query, "limit": PAGE}
    while True:
        page = reads.list_page(caller, query, counted=False)
        if page.tasks:
            yield page.tasks
        if not page.more:
            return
        query["cursor"] = position(cursor_after(query["sort"], page.tasks[-1]))


def query_version(caller: Caller, query: dict) -> str | None:
    """The state of the tasks a query shows (the list's version); None if the token is not
    current."""
    return reads.list_version(caller, query)
