"""The task list's statements: filters, sort orders and keyset pages (a deep page costs what
the first one does: it starts where the last row of the previous page sorts, through an
index). Each shape is built once; only the parameters change per request."""

import uuid
from datetime import datetime
from functools import cache

from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    Select,
    String,
    Time,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .. import cursors
from ..accounts.models import users
from ..accounts.tokens import OWNER, Caller
from ..columns import UTCDateTime
from ..fields import storable
from ..labels import names
from ..labels.models import labels, task_labels
from ..sharing.access import page_readable
from . import due
from .models import ANSWER_ROW, tasks

SORTS = [
    f"{direction}{key}"
    for key in ("created_at", "updated_at", "title", "due", "priority", "completed_at", "position")
    for direction in ("", "-")
]
TRASH_SORTS = ["deleted_at", "-deleted_at"]  # only where every task has been deleted
TIMESTAMP_SORTS = {"created_at", "updated_at", "deleted_at", "completed_at"}
# Sorts whose key is an expression, not a column: each row carries it as `sort_key`.
EXPRESSION_SORTS = {"due", "completed_at"}
# The bind parameters of the list's statements (beside the caller's).
COMPLETED, PATTERN, LIMIT, AFTER_VALUE, AFTER_ID, KEPT_SINCE = (
    "completed",
    "pattern",
    "limit",
    "after_value",
    "after_id",
    "kept_since",
)
ZONE, HAS_DUE, OVERDUE, TODAY, NOW_AT, NOW_TIME = (
    "zone",
    "has_due",
    "overdue",
    "today",
    "now_at",
    "now_time",
)
DUE_FROM, DUE_FROM_AT, DUE_TO, DUE_TO_AT, COMPLETED_FROM_AT, COMPLETED_TO_AT = (
    "due_from",
    "due_from_at",
    "due_to",
    "due_to_at",
    "completed_from_at",
    "completed_to_at",
)
# The list's filters, by their query parameter, in a fixed order (a shape's cache key).
FILTERS = (
    *("label", "list_id", "inbox", "parent_id", "none", "assignee", "unassigned", "completed"),
    *("q", "has_due", "due_from", "due_to", "overdue", "completed_from", "completed_to"),
)
# Parameters whose answer depends on the user's zone (the `tz` parameter, or their own).
ZONED = {"due_from", "due_to", "overdue", "completed_from", "completed_to"}
OWNER_ID = bindparam(OWNER, type_=Uuid)
LIST_ID, PARENT_ID, LABEL_KEYS, LABEL_COUNT = "list_id", "parent_id", "label_keys", "label_count"
ASSIGNEE = "assignee"
ME, UNASSIGNED = "me", "unassigned"  # assignee=me (the caller); assignee=none, as its filter


def cursor_after(sort: str, task) -> str:
    """The position after `task` in `sort` order."""
    column = sort.lstrip("-")
    value = task.sort_key if column in EXPRESSION_SORTS else getattr(task, column)
    if column in TIMESTAMP_SORTS:  # a datetime, or a row's answer text (models.ANSWER_ROW)
        value = (datetime.fromisoformat(value) if type(value) is str else value).isoformat()
    return cursors.encode([sort, value, str(task.id)])


def position(token: str) -> tuple[str, object, uuid.UUID]:
    """(sort, value, id) of a cursor `cursor_after` made; ValueError for any other."""
    sort, value, task_id = cursors.decode(token)
    if sort not in SORTS + TRASH_SORTS:
        raise ValueError(sort)
    if sort.lstrip("-") == "priority":
        if type(value) is not int:
            raise ValueError(value)
    elif not isinstance(value, str) or not storable(value):
        raise ValueError(value)
    elif sort.lstrip("-") in TIMESTAMP_SORTS:
        value = datetime.fromisoformat(value)
    return sort, value, uuid.UUID(task_id)


class due_key(FunctionElement):
    """A task's due date as text that sorts in time order on the wall clocks of the zone
    given (its one argument): `YYYY-MM-DD` for an all-day date, so it sorts before every
    time of that day, `YYYY-MM-DD HH:MM:SS` for a floating time and for a zoned one placed
    in that zone, and `~` (after every digit) for no due date."""

    type = String()
    name = "due_key"
    inherit_cache = True


@compiles(due_key, "postgresql")
def due_key_on_postgresql(element, compiler, **kw):
    zone_name = compiler.process(element.clauses, **kw)
    return (
        "CASE WHEN tasks.due_date IS NULL THEN '~' "
        "WHEN tasks.due_at IS NOT NULL "
        f"THEN to_char(tasks.due_at AT TIME ZONE {zone_name}, 'YYYY-MM-DD HH24:MI:SS') "
        "WHEN tasks.due_time IS NULL THEN to_char(tasks.due_date, 'YYYY-MM-DD') "
        "ELSE to_char(tasks.due_date + tasks.due_time, 'YYYY-MM-DD HH24:MI:SS') END"
    )


@compiles(due_key, "sqlite")
def due_key_on_sqlite(element, compiler, **kw):
    """SQLite stores dates as `YYYY-MM-DD` and times as `HH:MM:SS.ffffff`; `local_wall` is
    the app's own function (todo/database.py)."""
    zone_name = compiler.process(element.clauses, **kw)
    return (
        "CASE WHEN tasks.due_date IS NULL THEN '~' "
        f"WHEN tasks.due_at IS NOT NULL THEN local_wall(tasks.due_at, {zone_name}) "
        "WHEN tasks.due_time IS NULL THEN tasks.due_date "
        "ELSE tasks.due_date || ' ' || substr(tasks.due_time, 1, 8) END"
    )


def sort_key(column: str):
    """What a sort orders by (then by id): a column, or for a nullable one an expression
    that puts the rows without a value last (first in the descending order)."""
    if column == "due":
        return due_key(bindparam(ZONE, type_=String))
    if column == "completed_at":
        return func.coalesce(tasks.c.completed_at, literal(due.END_OF_TIME, UTCDateTime))
    return tasks.c[column]


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


def overdue():
    """Whether a task is overdue (never null): an all-day date before today, a zoned one
    whose instant has passed, a floating one whose wall time has passed, in the list's zone
    (TODAY, NOW_AT and NOW_TIME come from it)."""
    today = bindparam(TODAY, type_=Date)
    all_day = and_(tasks.c.due_date.is_not(None), tasks.c.due_time.is_(None))
    floating = and_(tasks.c.due_at.is_(None), tasks.c.due_time.is_not(None))
    return or_(
        and_(all_day, tasks.c.due_date < today),
        and_(tasks.c.due_at.is_not(None), tasks.c.due_at < bindparam(NOW_AT, type_=UTCDateTime)),
        and_(
            floating,
            or_(
                tasks.c.due_date < today,
                and_(
                    tasks.c.due_date == today,
                    tasks.c.due_time < bindparam(NOW_TIME, type_=Time),
                ),
            ),
        ),
    )


def carries_every_label():
    """The task carries every label of LABEL_KEYS (their identities), LABEL_COUNT of them."""
    carried = (
        select(func.count())
        .select_from(
            task_labels.join(
                labels,
                and_(
                    labels.c.user_id == task_labels.c.user_id, labels.c.id == task_labels.c.label_id
                ),
            )
        )
        .where(
            task_labels.c.user_id == OWNER_ID,
            task_labels.c.task_id == tasks.c.id,
            labels.c.user_id == OWNER_ID,
            labels.c.key.in_(bindparam(LABEL_KEYS, expanding=True)),
        )
        .scalar_subquery()
    )
    return carried == bindparam(LABEL_COUNT, type_=Integer)


def condition(name: str):
    """The condition of one filter; its values are bound parameters."""
    if name == "label":
        return carries_every_label()
    if name == "list_id":
        return tasks.c.list_id == bindparam(LIST_ID, type_=Uuid)
    if name == "inbox":
        return tasks.c.list_id.is_(None)
    if name == "parent_id":
        return tasks.c.parent_id == bindparam(PARENT_ID, type_=Uuid)
    if name == "none":
        return tasks.c.parent_id.is_(None)
    if name == "assignee":
        return tasks.c.assignee_id == bindparam(ASSIGNEE, type_=Uuid)
    if name == "unassigned":
        return tasks.c.assignee_id.is_(None)
    if name == "completed":
        return tasks.c.completed == bindparam(COMPLETED, type_=Boolean)
    if name == "q":
        pattern = bindparam(PATTERN, type_=String)
        return or_(
            tasks.c.title.ilike(pattern, escape="/"),
            func.coalesce(tasks.c.description, "").ilike(pattern, escape="/"),
        )
    if name == "has_due":
        return tasks.c.due_date.is_not(None) == bindparam(HAS_DUE, type_=Boolean)
    if name == "overdue":
        return overdue() == bindparam(OVERDUE, type_=Boolean)
    # The date ranges: all-day and floating dates by their date, zoned ones by their
    # instant, against the instants the list's zone gives the range's ends.
    floating = tasks.c.due_at.is_(None)
    if name == "due_from":
        return or_(
            and_(floating, tasks.c.due_date >= bindparam(DUE_FROM, type_=Date)),
            tasks.c.due_at >= bindparam(DUE_FROM_AT, type_=UTCDateTime),
        )
    if name == "due_to":
        return or_(
            and_(floating, tasks.c.due_date <= bindparam(DUE_TO, type_=Date)),
            tasks.c.due_at < bindparam(DUE_TO_AT, type_=UTCDateTime),
        )
    if name == "completed_from":
        return tasks.c.completed_at >= bindparam(COMPLETED_FROM_AT, type_=UTCDateTime)
    return tasks.c.completed_at < bindparam(COMPLETED_TO_AT, type_=UTCDateTime)


def filtered(statement: Select, filters: tuple[str, ...], in_trash: bool = False) -> Select:
    """The user's tasks that match the filters in use, live or in the trash (not expired);
    values come as bound parameters."""
    statement = statement.where(tasks.c.user_id == OWNER_ID)
    if in_trash:
        statement = statement.where(tasks.c.deleted_at >= kept_since)
    else:
        statement = statement.where(tasks.c.deleted_at.is_(None))
    return statement.where(*(condition(name) for name in filters))


kept_since = bindparam(KEPT_SINCE, type_=UTCDateTime)  # the oldest deletion still in the trash


# Each shape of list query is built once and reused: only the parameters change per request.
@cache
def page_shape(sort: str, after: bool, filters: tuple, in_trash: bool, member: bool) -> Select:
    """One page (plus one row, to tell whether another page follows) in the asked order, and
    the list's version with each row, null while the token is not current (`page_readable`).

    The token is checked where the version is read, in the one subquery over the caller's
    users row: a condition of its own (TOKEN_IS_CURRENT) would have PostgreSQL plan and run a
    second one (~45 us of a 100-task page's ~330, EXPLAIN ANALYZE). A page read for a token
    that is not current is never answered (store.list_page)."""
    column = sort.lstrip("-")
    key = (sort_key(column), tasks.c.id)
    descending = sort.startswith("-")
    number = select(users.c.change_number).where(page_readable(member)).scalar_subquery()
    extra = [key[0].label("sort_key")] if column in EXPRESSION_SORTS else []
    page = select(*ANSWER_ROW, version_column(number, in_trash), *extra)
    statement = filtered(page, filters, in_trash)
    if after:
        bound = tuple_(*key)
        value_type = UTCDateTime() if column in TIMESTAMP_SORTS else key[0].type
        after = tuple_(bindparam(AFTER_VALUE, type_=value_type), bindparam(AFTER_ID, type_=Uuid))
        statement = statement.where(bound < after if descending else bound > after)
    order = [part.desc() if descending else part.asc() for part in key]
    return statement.order_by(*order).limit(bindparam(LIMIT, type_=Integer))


@cache
def version_shape(in_trash: bool, member: bool) -> Select:
    """The list's version alone, read as the page reads it (`page_readable`): what
    If-None-Match is checked against, before any page is read."""
    return select(version_column(users.c.change_number, in_trash)).where(page_readable(member))


@cache
def count_shape(filters: tuple[str, ...], in_trash: bool) -> Select:
    """How many tasks match the filters. With none but `completed`, the user's counters of
    live tasks answer (kept by triggers, migrations 0005 and 0007): one row read, whatever the
    number of tasks. Other filters, and the trash, are counted, in the time their page takes
    to find anyway."""
    if in_trash or set(filters) - {"completed"}:
        return filtered(select(func.count()).select_from(tasks), filters, in_trash)
    count = users.c.task_count
    if filters:
        done = bindparam(COMPLETED, type_=Boolean)
        count = case((done, users.c.completed_count), else_=count - users.c.completed_count)
    return select(count).where(users.c.id == bindparam(OWNER, type_=Uuid))


def used_filters(query: dict) -> tuple[str, ...]:
    return tuple(name for name in FILTERS if name in query)


def page_statement(caller: Caller, query: dict) -> tuple[Select, dict]:
    """The statement for this page of the list (one row more than the page, to tell whether
    another follows), and its parameters."""
    shape = (query["sort"], "cursor" in query, used_filters(query), "trash_since" in query)
    statement = page_shape(*shape, caller.shared is not None)
    parameters = {**caller.parameters, **filter_parameters(query), LIMIT: query["limit"] + 1}
    if "cursor" in query:
        _, parameters[AFTER_VALUE], parameters[AFTER_ID] = query["cursor"]
    return statement, parameters


def count_statement(caller: Caller, query: dict) -> tuple[Select, dict]:
    statement = count_shape(used_filters(query), "trash_since" in query)
    return statement, {OWNER: caller.space_id, **filter_parameters(query)}


def version_statement(caller: Caller, query: dict) -> tuple[Select, dict]:
    shape = version_shape("trash_since" in query, caller.shared is not None)
    return shape, {**caller.parameters, **filter_parameters(query)}


def filter_parameters(query: dict) -> dict:
    """The bound values of the query's filters; dates are placed in the list's zone
    (`zone`), and "overdue" is as of the list's `now`."""
    parameters = {}
    if "label" in query:
        keys = names.distinct(query["label"])
        parameters[LABEL_KEYS], parameters[LABEL_COUNT] = list(keys), len(keys)
    if "list_id" in query:
        parameters[LIST_ID] = query["list_id"]
    if "parent_id" in query:
        parameters[PARENT_ID] = query["parent_id"]
    if "assignee" in query:
        parameters[ASSIGNEE] = query["assignee"]
    if "completed" in query:
        parameters[COMPLETED] = query["completed"]
    if "q" in query:
        parameters[PATTERN] = escape_like(query["q"])
    if "trash_since" in query:
        parameters[KEPT_SINCE] = query["trash_since"]
    if "has_due" in query:
        parameters[HAS_DUE] = query["has_due"]
    zone_name = query.get("zone", "UTC")
    if query.get("sort", "").lstrip("-") == "due":
        parameters[ZONE] = zone_name
    if "due_from" in query:
        parameters[DUE_FROM] = query["due_from"]
        parameters[DUE_FROM_AT] = due.day_start(query["due_from"], zone_name)
    if "due_to" in query:
        parameters[DUE_TO] = query["due_to"]
        parameters[DUE_TO_AT] = due.day_after_start(query["due_to"], zone_name)
    if "overdue" in query:
        local = query["now"].astimezone(due.zone(zone_name))
        parameters[OVERDUE] = query["overdue"]
        parameters[TODAY], parameters[NOW_AT] = local.date(), query["now"]
        parameters[NOW_TIME] = local.time().replace(tzinfo=None)
    if "completed_from" in query:
        parameters[COMPLETED_FROM_AT] = due.day_start(query["completed_from"], zone_name)
    if "completed_to" in query:
        parameters[COMPLETED_TO_AT] = due.day_after_start(query["completed_to"], zone_name)
    return parameters
