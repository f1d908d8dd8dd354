"""The task list's statements: filters, sort orders and keyset pages (a deep page costs what
the first one does: it starts where the last row of the previous page sorts, through an
index). Each shape is built once; only the parameters change per request."""

import uuid
from datetime import datetime
from functools import cache

from sqlalchemy import (
    Boolean,
    Integer,
    Select,
    String,
    Uuid,
    bindparam,
    case,
    func,
    or_,
    select,
    tuple_,
)

from .. import cursors
from ..accounts.models import users
from ..accounts.tokens import OWNER, TOKEN_IS_CURRENT, Caller
from ..fields import storable
from .models import TASK_ROW, tasks

SORTS = ["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title"]
TIMESTAMP_SORTS = {"created_at", "updated_at"}
# The bind parameters of the list's statements (beside the caller's).
COMPLETED, PATTERN, LIMIT, AFTER_VALUE, AFTER_ID = (
    "completed",
    "pattern",
    "limit",
    "after_value",
    "after_id",
)


def cursor_after(sort: str, task) -> str:
    """The position after `task` in `sort` order."""
    column = sort.lstrip("-")
    value = getattr(task, column)
    if column in TIMESTAMP_SORTS:
        value = value.isoformat()
    return cursors.encode([sort, value, str(task.id)])


def position(token: str) -> tuple[str, object, uuid.UUID]:
    """(sort, value, id) of a cursor `cursor_after` made; ValueError for any other."""
    sort, value, task_id = cursors.decode(token)
    if sort not in SORTS or not isinstance(value, str) or not storable(value):
        raise ValueError(sort)
    if sort.lstrip("-") in TIMESTAMP_SORTS:
        value = datetime.fromisoformat(value)
    return sort, value, uuid.UUID(task_id)


def escape_like(text: str) -> str:
    """`text` as a LIKE pattern that matches it anywhere, its own % and _ taken literally."""
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def filtered(statement: Select, by_completed: bool, by_text: bool) -> Select:
    """The user's tasks that match the filters in use; values come as bound parameters."""
    statement = statement.where(tasks.c.user_id == bindparam(OWNER, type_=Uuid))
    if by_completed:
        statement = statement.where(tasks.c.completed == bindparam(COMPLETED, type_=Boolean))
    if by_text:
        pattern = bindparam(PATTERN, type_=String)
        statement = statement.where(
            or_(
                tasks.c.title.ilike(pattern, escape="/"),
                func.coalesce(tasks.c.description, "").ilike(pattern, escape="/"),
            )
        )
    return statement


# Each shape of list query is built once and reused: only the parameters change per request.
@cache
def page_shape(sort: str, after_cursor: bool, by_completed: bool, by_text: bool) -> Select:
    """One page (plus one row, to tell whether another page follows) in the asked order, while
    the token is current (else no rows)."""
    key = (tasks.c[sort.lstrip("-")], tasks.c.id)
    descending = sort.startswith("-")
    statement = filtered(select(*TASK_ROW).where(TOKEN_IS_CURRENT), by_completed, by_text)
    if after_cursor:
        bound = tuple_(*key)
        after = tuple_(bindparam(AFTER_VALUE, type_=key[0].type), bindparam(AFTER_ID, type_=Uuid))
        statement = statement.where(bound < after if descending else bound > after)
    order = [column.desc() if descending else column.asc() for column in key]
    return statement.order_by(*order).limit(bindparam(LIMIT, type_=Integer))


@cache
def count_shape(by_completed: bool, by_text: bool) -> Select:
    """How many tasks match the filters. Without a search, the user's counters answer (kept
    by triggers, migration 0005): one row read, whatever the number of tasks. A search is
    counted, in the time its page takes to find anyway."""
    if by_text:
        return filtered(select(func.count()).select_from(tasks), by_completed, by_text)
    count = users.c.task_count
    if by_completed:
        done = bindparam(COMPLETED, type_=Boolean)
        count = case((done, users.c.completed_count), else_=count - users.c.completed_count)
    return select(count).where(users.c.id == bindparam(OWNER, type_=Uuid))


def page_statement(caller: Caller, query: dict) -> tuple[Select, dict]:
    """The statement for this page of the list (one row more than the page, to tell whether
    another follows), and its parameters."""
    statement = page_shape(query["sort"], "cursor" in query, "completed" in query, "q" in query)
    parameters = {**caller.parameters, **filter_parameters(query), LIMIT: query["limit"] + 1}
    if "cursor" in query:
        _, parameters[AFTER_VALUE], parameters[AFTER_ID] = query["cursor"]
    return statement, parameters


def count_statement(caller: Caller, query: dict) -> tuple[Select, dict]:
    statement = count_shape("completed" in query, "q" in query)
    return statement, {OWNER: caller.user_id, **filter_parameters(query)}


def filter_parameters(query: dict) -> dict:
    parameters = {}
    if "completed" in query:
        parameters[COMPLETED] = query["completed"]
    if "q" in query:
        parameters[PATTERN] = escape_like(query["q"])
    return parameters
