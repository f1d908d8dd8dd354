"""The change feed's reads: what changed in a user's tasks after a change number, a page at a
time, ordered by (number, id), and the signed cursors that carry a client's number.

A page reads the user's number first (one indexed read, with the token check): a client that
is up to date costs nothing more. Every number up to the one read has committed (numbers are
taken under the user's row lock, held to commit: todo/tasks/changes.py), so the rows read
after it, up to it, are every change up to it, and a cursor there misses nothing.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import BigInteger, Integer, Row, Uuid, bindparam, select, type_coerce

from .. import cursors
from ..accounts.store import load_account
from ..accounts.tokens import OWNER, USER_GONE, Caller, TokenNotCurrent
from ..columns import UUIDText, utcnow
from ..database import statement_rows
from ..lists.models import purged_lists
from ..lists.store import COUNTED_ROW
from ..tasks.changes import current_number
from ..tasks.models import ANSWER_ROW, purged_tasks, tasks

SINCE, UPTO, AT, LIMIT = "since", "upto", "at", "limit"
TASK, LIST = "task", "list"  # the kinds of row in the feed


class InvalidCursor(Exception):
    def __init__(self):
        super().__init__("Not a valid cursor: send the `next` of an earlier answer to this user.")


class CursorExpired(Exception):
    def __init__(self):
        super().__init__(
            "This cursor is older than the feed remembers deletions: sync again without "
            "`since`, and replace what you hold."
        )


def feed_cursor(user_id: uuid.UUID, number: int, key: bytes) -> str:
    """A cursor at `number` for this user, stamped with the time it was issued."""
    return cursors.signed([str(user_id), number, int(utcnow().timestamp())], key)


def cursor_number(token: str, user_id: uuid.UUID, key: bytes, retention_days: int) -> int:
    """The number a cursor stands at: InvalidCursor if it is not one this API issued to this
    user, CursorExpired if it was issued more than `retention_days` ago (FEED_RETENTION_DAYS:
    how long a client may stay away and still sync incrementally)."""
    try:
        owner, number, issued = cursors.verified(token, key)
    except (ValueError, TypeError) as error:
        raise InvalidCursor() from error
    if owner != str(user_id) or type(number) is not int or type(issued) is not int:
        raise InvalidCursor()
    if datetime.fromtimestamp(issued, UTC) < utcnow() - timedelta(days=retention_days):
        raise CursorExpired()
    return number


def changed(statement, live_only: bool, at: bool):
    """`statement` over tasks or tombstones, narrowed to the user's rows above SINCE and up to
    UPTO (or at AT, to finish one number), in feed order.

    UPTO is the user's number read first: every change up to it has committed, so the tasks
    and the tombstones, read by two statements, agree on it. A change committed between them
    (a purge that turns a task into a tombstone) is above it, and waits for the next page."""
    table = statement.get_final_froms()[0]
    number = table.c.change_number
    statement = statement.where(table.c.user_id == bindparam(OWNER, type_=Uuid))
    if at:
        statement = statement.where(number == bindparam(AT, type_=BigInteger))
    else:
        statement = statement.where(
            number > bindparam(SINCE, type_=BigInteger),
            number <= bindparam(UPTO, type_=BigInteger),
        )
        statement = statement.limit(bindparam(LIMIT, type_=Integer))
    if live_only:
        statement = statement.where(table.c.deleted_at.is_(None))
    return statement.order_by(number, table.c.id)


TOMBSTONE_ROW = (
    type_coerce(purged_tasks.c.id, UUIDText()).label("id"),
    purged_tasks.c.deleted_at,
    purged_tasks.c.change_number,
)
TASK_ENTRY = (*ANSWER_ROW, tasks.c.change_number)
TASKS_AFTER = changed(select(*TASK_ENTRY), live_only=False, at=False)
LIVE_TASKS_AFTER = changed(select(*TASK_ENTRY), live_only=True, at=False)
TASKS_AT = changed(select(*TASK_ENTRY), live_only=False, at=True)
PURGED_AFTER = changed(select(*TOMBSTONE_ROW), live_only=False, at=False)
PURGED_AT = changed(select(*TOMBSTONE_ROW), live_only=False, at=True)
# The same of lists (a list's counts are as of the feed's read).
LIST_TOMBSTONE_ROW = (
    type_coerce(purged_lists.c.id, UUIDText()).label("id"),
    purged_lists.c.deleted_at,
    purged_lists.c.change_number,
)
LISTS_AFTER = changed(select(*COUNTED_ROW), live_only=False, at=False)
LIVE_LISTS_AFTER = changed(select(*COUNTED_ROW), live_only=True, at=False)
LISTS_AT = changed(select(*COUNTED_ROW), live_only=False, at=True)
PURGED_LISTS_AFTER = changed(select(*LIST_TOMBSTONE_ROW), live_only=False, at=False)
PURGED_LISTS_AT = changed(select(*LIST_TOMBSTONE_ROW), live_only=False, at=True)
# What a page reads, by kind of row: (live rows, of a first sync), (rows), (at one number),
# (tombstones), (tombstones at one number).
READS = {
    TASK: (LIVE_TASKS_AFTER, TASKS_AFTER, TASKS_AT, PURGED_AFTER, PURGED_AT),
    LIST: (LIVE_LISTS_AFTER, LISTS_AFTER, LISTS_AT, PURGED_LISTS_AFTER, PURGED_LISTS_AT),
}


class Deleted(NamedTuple):
    """A task under `deleted` (a list under `deleted_lists`): in the trash (`purged` false)
    or gone for good."""

    id: str
    deleted_at: datetime
    purged: bool


@dataclass
class Changes:
    """One page of the feed."""

    tasks: list[Row] = field(default_factory=list)
    deleted: list[Deleted] = field(default_factory=list)
    lists: list[Row] = field(default_factory=list)
    deleted_lists: list[Deleted] = field(default_factory=list)
    number: int = 0  # where the next page starts
    has_more: bool = False


@dataclass(frozen=True, slots=True)
class Entry:
    """A row of the feed: a task or a list, or a purged one's tombstone."""

    number: int
    id: str
    row: Row
    purged: bool
    kind: str


def read_changes(caller: Caller, since: int | None, limit: int) -> Changes:
    """The caller's changes after `since` (None: every live task, for a first sync), at most
    `limit` rows unless one change alone has more (a page never splits a number)."""
    number = current_number(caller)
    if number is None:
        load_account(caller)  # raises, saying why
        raise TokenNotCurrent(USER_GONE)
    if since is not None and since > number:
        raise CursorExpired()  # from a database restored to an earlier state: start over
    if since == number:
        return Changes(number=number)
    parameters = {OWNER: caller.user_id, SINCE: since or 0, UPTO: number, LIMIT: limit + 1}
    entries = entries_of(parameters, first_sync=since is None)[: limit + 1]
    if len(entries) <= limit:
        return page_of(entries, number, False)
    last = entries[limit - 1].number
    if entries[limit].number != last:
        entries = entries[:limit]
    elif entries[0].number != last:
        entries = [entry for entry in entries[:limit] if entry.number != last]
    else:  # one change of more rows than the page: all of it, and more only if numbered since
        entries = entries_of({OWNER: caller.user_id, AT: last}, first_sync=False, at=True)
        return page_of(entries, last, last < number)
    return page_of(entries, entries[-1].number, True)


def entries_of(parameters: dict, first_sync: bool, at: bool = False) -> list[Entry]:
    """The tasks, lists and tombstones the parameters select, merged in feed order."""
    entries = []
    for kind, (live_rows, rows, rows_at, tombstones, tombstones_at) in READS.items():
        statement = rows_at if at else live_rows if first_sync else rows
        found = statement_rows(statement, parameters)
        entries += [Entry(row.change_number, row.id, row, False, kind) for row in found]
        if not first_sync:
            gone = statement_rows(tombstones_at if at else tombstones, parameters)
            entries += [Entry(row.change_number, row.id, row, True, kind) for row in gone]
    entries.sort(key=lambda entry: (entry.number, entry.id))
    return entries


def page_of(entries: list[Entry], number: int, has_more: bool) -> Changes:
    page = Changes(number=number, has_more=has_more)
    for entry in entries:
        live = not entry.purged and entry.row.deleted_at is None
        if entry.kind == TASK:
            rows, deleted = page.tasks, page.deleted
        else:
            rows, deleted = page.lists, page.deleted_lists
        if live:
            rows.append(entry.row)
        else:
            deleted.append(Deleted(entry.id, entry.row.deleted_at, entry.purged))
    return page
