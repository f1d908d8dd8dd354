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
    cast,
    func,
    or_,
    select,
    tuple_,
)

from .. import cursors
from ..accounts.models import users
from ..accounts.tokens import CALLER_ROW_IS_CURRENT, OWNER, TOKEN_IS_CURRENT, Caller
from ..columns import UTCDateTime
from ..fields import storable
from .models import TASK_ROW, tasks

SORTS = ["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title"]
TRASH_SORTS = ["deleted_at", "-deleted_at"]  # only where every task has been deleted
TIMESTAMP_SORTS = {"created_at", "updated_at", "deleted_at"}
# The bind parameters of the list's statements (beside the caller's).
COMPLETED, PATTERN, LIMIT, AFTER_VALUE, AFTER_ID, KEPT_SINCE = (
    "completed",
    "pattern",
    "limit",
    "after_value",
    "after_id",
    "kept_since",
)
OWNER_ID = bindparam(OWNER, type_=Uuid)


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
    if sort not in SORTS + TRASH_SORTS or not isinstance(value, str) or not storable(value):
        raise ValueError(sort)
    if sort.lstrip("-") in TIMESTAMP_SORTS:
        value = datetime.fromisoformat(value)
    return sort, value, uuid.UUID(task_id)


def escape_like(text: str) -> str:
    """`text` as a LIKE pattern that matches it anywhere, its own % and _ taken literally."""
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def version_column(number, in_trash: bool):
    """What state of a list a page shows: the user's change `number`; for the trash, also how
    many of its tasks have expired (they leave it as time passes, with no change)."""
    version = cast(number, String)
    if in_trash:
        expired = (
            select(func.count())
            .select_from(tasks)
            .where(tasks.c.user_id == OWNER_ID, tasks.c.deleted_at < kept_since)
            .scalar_subquery()
        )
        version = version + "." + cast(expired, String)
    return version.label("list_version")


def filtered(
    statement: Select, by_completed: bool, by_text: bool, in_trash: bool = False
) -> Select:
    """The user's tasks that match the filters in use, live or in the trash (not expired);
    values come as bound parameters."""
    statement = statement.where(tasks.c.user_id == OWNER_ID)
    if in_trash:
        statement = statement.where(tasks.c.deleted_at >= kept_since)
    else:
        statement = statement.where(tasks.c.deleted_at.is_(None))
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


kept_since = bindparam(KEPT_SINCE, type_=UTCDateTime)  # the oldest deletion still in the trash


# Each shape of list query is built once and reused: only the parameters change per request.
@cache
def page_shape(
    sort: str, after_cursor: bool, by_completed: bool, by_text: bool, in_trash: bool
) -> Select:
    """One page (plus one row, to tell whether another page follows) in the asked order, and
    the list's version with each row, while the token is current (else no rows)."""
    key = (tasks.c[sort.lstrip("-")], tasks.c.id)
    descending = sort.startswith("-")
    number = select(users.c.change_number).where(users.c.id == OWNER_ID).scalar_subquery()
    page = select(*TASK_ROW, version_column(number, in_trash)).where(TOKEN_IS_CURRENT)
    statement = filtered(page, by_completed, by_text, in_trash)
    if after_cursor:
        bound = tuple_(*key)
        after = tuple_(bindparam(AFTER_VALUE, type_=key[0].type), bindparam(AFTER_ID, type_=Uuid))
        statement = statement.where(bound < after if descending else bound > after)
    order = [column.desc() if descending else column.asc() for column in key]
    return statement.order_by(*order).limit(bindparam(LIMIT, type_=Integer))


@cache
def version_shape(in_trash: bool) -> Select:
    """The list's version alone, read from the caller's users row while the token is current:
    what If-None-Match is checked against, before any page is read."""
    return select(version_column(users.c.change_number, in_trash)).where(CALLER_ROW_IS_CURRENT)


@cache
def count_shape(by_completed: bool, by_text: bool, in_trash: bool) -> Select:
    """How many tasks match the filters. Without a search, the user's counters of live tasks
    answer (kept by triggers, migrations 0005 and 0007): one row read, whatever the number of
    tasks. A search, and the trash, are counted, in the time their page takes to find anyway."""
    if by_text or in_trash:
        counted = select(func.count()).select_from(tasks)
        return filtered(counted, by_completed, by_text, in_trash)
    count = users.c.task_count
    if by_completed:
        done = bindparam(COMPLETED, type_=Boolean)
        count = case((done, users.c.completed_count), else_=count - users.c.completed_count)
    return select(count).where(users.c.id == bindparam(OWNER, type_=Uuid))


def page_statement(caller: Caller, query: dict) -> tuple[Select, dict]:
    """The statement for this page of the list (one row more than the page, to tell whether
    another follows), and its parameters."""
    statement = page_shape(
        query["sort"], "cursor" in query, "completed" in query, "q" in query, "trash_since" in query
    )
    parameters = {**caller.parameters, **filter_parameters(query), LIMIT: query["limit"] + 1}
    if "cursor" in query:
        _, parameters[AFTER_VALUE], parameters[AFTER_ID] = query["cursor"]
    return statement, parameters


def count_statement(caller: Caller, query: dict) -> tuple[Select, dict]:
    statement = count_shape("completed" in query, "q" in query, "trash_since" in query)
    return statement, {OWNER: caller.user_id, **filter_parameters(query)}


def version_statement(caller: Caller, query: dict) -> tuple[Select, dict]:
    return version_shape("trash_since" in query), {**caller.parameters, **filter_parameters(query)}


def filter_parameters(query: dict) -> dict:
    parameters = {}
    if "completed" in query:
        parameters[COMPLETED] = query["completed"]
    if "q" in query:
        parameters[PATTERN] = escape_like(query["q"])
    if "trash_since" in query:
        parameters[KEPT_SINCE] = query["trash_since"]
    return parameters
