"""The change feed's reads: what changed in a user's tasks after a change number, a page at a
time, ordered by (number, id), and the signed cursors that carry where a client stands: a
number, and the last id read of the next one when a page ended inside a change (a change of
10,000 tasks spans pages of `limit` each, which a client reads until `has_more` is false).

A page reads the user's number first (one indexed read, with the token check): a client that
is up to date costs nothing more. Every number up to the one read has committed (numbers are
taken under the user's row lock, held to commit: todo/tasks/changes.py), so the rows read
after it, up to it, are every change up to it, and a cursor there misses nothing.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import BigInteger, Integer, Row, Uuid, bindparam, select, tuple_, type_coerce

from .. import cursors
from ..accounts.store import load_account
from ..accounts.tokens import OWNER, USER_GONE, Caller, TokenNotCurrent
from ..columns import UUIDText, utcnow
from ..database import statement_rows
from ..lists.models import purged_lists
from ..lists.store import COUNTED_ROW
from ..tasks.changes import current_number
from ..tasks.models import ANSWER_ROW, purged_tasks, tasks

SINCE, AFTER, UPTO, LIMIT = "since", "after", "upto", "limit"
# The id above every id: a position after the whole of a number.
LAST_ID = uuid.UUID(int=2**128 - 1)
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


class Position(NamedTuple):
    """Where a client stands: every change up to `number` read, and of the next one the rows
    up to the id `after`, if a page ended inside it (else LAST_ID)."""

    number: int
    after: uuid.UUID = LAST_ID


START = Position(0)


def feed_cursor(user_id: uuid.UUID, position: Position, key: bytes) -> str:
    """A cursor at `position` for this user, stamped with the time it was issued."""
    parts = [str(user_id), position.number, int(utcnow().timestamp())]
    if position.after != LAST_ID:
        parts.append(str(position.after))
    return cursors.signed(parts, key)


def cursor_position(token: str, user_id: uuid.UUID, key: bytes, retention_days: int) -> Position:
    """Where a cursor stands: InvalidCursor if it is not one this API issued to this user,
    CursorExpired if it was issued more than `retention_days` ago (FEED_RETENTION_DAYS: how
    long a client may stay away and still sync incrementally)."""
    try:
        owner, number, issued, *after = cursors.verified(token, key)
        position = Position(number, *(uuid.UUID(each) for each in after[:1]))
    except (ValueError, TypeError, AttributeError) as error:
        raise InvalidCursor() from error
    if owner != str(user_id) or type(number) is not int or type(issued) is not int:
        raise InvalidCursor()
    if datetime.fromtimestamp(issued, UTC) < utcnow() - timedelta(days=retention_days):
        raise CursorExpired()
    return position


def changed(statement, live_only: bool):
    """`statement` over tasks or tombstones, narrowed to the user's rows after (SINCE, AFTER)
    in (number, id) order and up to UPTO, LIMIT of them, in that order.

    UPTO is the user's number read first: every change up to it has committed, so the tasks
    and the tombstones, read by two statements, agree on it. A change committed between them
    (a purge that turns a task into a tombstone) is above it, and waits for the next page."""
    table = statement.get_final_froms()[0]
    number = table.c.change_number
    statement = statement.where(
        table.c.user_id == bindparam(OWNER, type_=Uuid),
        tuple_(number, table.c.id)
        > tuple_(bindparam(SINCE, type_=BigInteger), bindparam(AFTER, type_=Uuid)),
        number <= bindparam(UPTO, type_=BigInteger),
    ).limit(bindparam(LIMIT, type_=Integer))
    if live_only:
        statement = statement.where(table.c.deleted_at.is_(None))
    return statement.order_by(number, table.c.id)


TOMBSTONE_ROW = (
    type_coerce(purged_tasks.c.id, UUIDText()).label("id"),
    purged_tasks.c.deleted_at,
    purged_tasks.c.change_number,
)
TASK_ENTRY = (*ANSWER_ROW, tasks.c.change_number)
TASKS_AFTER = changed(select(*TASK_ENTRY), live_only=False)
LIVE_TASKS_AFTER = changed(select(*TASK_ENTRY), live_only=True)
PURGED_AFTER = changed(select(*TOMBSTONE_ROW), live_only=False)
# The same of lists (a list's counts are as of the feed's read).
LIST_TOMBSTONE_ROW = (
    type_coerce(purged_lists.c.id, UUIDText()).label("id"),
    purged_lists.c.deleted_at,
    purged_lists.c.change_number,
)
LISTS_AFTER = changed(select(*COUNTED_ROW), live_only=False)
LIVE_LISTS_AFTER = changed(select(*COUNTED_ROW), live_only=True)
PURGED_LISTS_AFTER = changed(select(*LIST_TOMBSTONE_ROW), live_only=False)
# What a page reads, by kind of row: (live rows, of a first sync), (rows), (tombstones).
READS = {
    TASK: (LIVE_TASKS_AFTER, TASKS_AFTER, PURGED_AFTER),
    LIST: (LIVE_LISTS_AFTER, LISTS_AFTER, PURGED_LISTS_AFTER),
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
    position: Position = START  # where the next page starts
    has_more: bool = False


@dataclass(frozen=True, slots=True)
class Entry:
    """A row of the feed: a task or a list, or a purged one's tombstone."""

    number: int
    id: str
    row: Row
    purged: bool
    kind: str


def read_changes(caller: Caller, since: Position | None, limit: int) -> Changes:
    """The caller's changes after `since` (None: every live task, for a first sync), at most
    `limit` rows: a change of more rows spans pages, the cursor standing inside it."""
    number = check_current(caller)
    if since is not None and since.number > number:
        raise CursorExpired()  # from a database restored to an earlier state: start over
    if since == Position(number):
        return Changes(position=since)
    first_sync, since = since is None, since or START
    parameters = {
        OWNER: caller.space_id,
        SINCE: since.number,
        AFTER: since.after,
        UPTO: number,
        LIMIT: limit + 1,
    }
    return page_upto(entries_of(parameters, first_sync)[: limit + 1], limit, number)


def page_upto(entries: list["Entry"], limit: int, number: int) -> Changes:
    """The page of the first `limit` of `entries` (read up to the user's `number`, one more
    than a page asked for): its position ends inside a change if the next entry is of it."""
    if len(entries) <= limit:
        return page_of(entries, Position(number), False)
    last, following = entries[limit - 1], entries[limit]
    inside = following.number == last.number
    position = Position(last.number, uuid.UUID(last.id) if inside else LAST_ID)
    return page_of(entries[:limit], position, True)


def check_current(caller: Caller) -> int:
    """The caller's change number; TokenNotCurrent, saying why, when the token is not."""
    number = current_number(caller)
    if number is None:
        load_account(caller)  # raises, saying why
        raise TokenNotCurrent(USER_GONE)
    return number


def entries_of(parameters: dict, first_sync: bool) -> list[Entry]:
    """The tasks, lists and tombstones the parameters select, merged in feed order."""
    entries = []
    for kind, (live_rows, rows, tombstones) in READS.items():
        found = statement_rows(live_rows if first_sync else rows, parameters)
        entries += [Entry(row.change_number, row.id, row, False, kind) for row in found]
        if not first_sync:
            gone = statement_rows(tombstones, parameters)
            entries += [Entry(row.change_number, row.id, row, True, kind) for row in gone]
    entries.sort(key=lambda entry: (entry.number, entry.id))
    return entries


def page_of(entries: list[Entry], position: Position, has_more: bool) -> Changes:
    page = Changes(position=position, has_more=has_more)
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
