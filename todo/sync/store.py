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
from typing import NamedTuple, NoReturn

from sqlalchemy import Row, select, type_coerce

from .. import cursors
from ..accounts.store import load_account
from ..accounts.tokens import OWNER, USER_GONE, Caller, TokenNotCurrent
from ..columns import UUIDText, utcnow
from ..database import rows_in_turn, statement_rows
from ..lists.models import purged_lists
from ..lists.store import COUNTED_ROW
from ..tasks.changes import CURRENT_NUMBER, current_number
from . import shared
from .rows import (
    AFTER,
    LAST_ID,
    LIMIT,
    LIST,
    SINCE,
    START,
    TASK,
    TASK_ENTRY,
    TOMBSTONE_ROW,
    UPTO,
    Entry,
    Position,
    changed,
)


class InvalidCursor(Exception):
    def __init__(self):
        super().__init__("Not a valid cursor: send the `next` of an earlier answer to this user.")


class CursorExpired(Exception):
    def __init__(self):
        super().__init__(
            "This cursor is older than the feed remembers deletions: sync again without "
            "`since`, and replace what you hold."
        )


class Known(NamedTuple):
    """What a cursor holds: whose it is, where it stands, when it was issued."""

    user_id: str
    position: Position
    issued: int


def feed_cursor(user_id: uuid.UUID, position: Position, key: bytes) -> str:
    """A cursor at `position` for this user, stamped with the time it was issued; a member's
    ends with its position in each owner's numbers ([owner, number(, after)] each, ids as
    32 hex digits; a page stops inside one owner's changes at most): 100 owners make a cursor
    of about 6.1 KB, within the server's 8 KiB request line (server/framing.py)."""
    known = Known(str(user_id), position, int(utcnow().timestamp()))
    token = ISSUED_CURSORS.get((known, key))
    if token is not None:
        return token
    parts = [known.user_id, position.number, known.issued]
    if position.after != LAST_ID:
        parts.append(str(position.after))
    if position.spaces:
        parts.append([space_part(owner, at) for owner, at in position.spaces])
    token = cursors.signed(parts, key)
    remember(ISSUED_CURSORS, (known, key), token)
    remember(KNOWN_CURSORS, (token, key), known)
    return token


def space_part(owner: uuid.UUID, at: Position) -> list:
    part = [owner.hex, at.number]
    return part if at.after == LAST_ID else [*part, at.after.hex]


# The cursors this process issued or verified lately, with what each holds: a client's next
# poll sends the cursor the last one answered, whose signature, JSON and (a member's) owner
# ids need not be checked and parsed again (10 owners: ~45 us). Only a cursor whose signature
# this process made or checked with `key` is here, so nothing unsigned is ever taken from it;
# whose it is and its age are asked on every use. And the other way round, the cursor issued
# for what it holds: the polls of one second that stand where they stood (nothing new) are
# answered the same cursor, signed once (10 owners: ~30 us).
KNOWN_CURSORS: dict[tuple[str, bytes], Known] = {}
ISSUED_CURSORS: dict[tuple[Known, bytes], str] = {}
MEMO_SIZE = 1024  # cursors of up to ~6 KB (100 owners): a few MB per process at most


def remember(memo: dict, key, value) -> None:
    """`memo[key] = value`; a memo that is full starts over."""
    if len(memo) >= MEMO_SIZE:
        memo.clear()
    memo[key] = value


def cursor_position(token: str, user_id: uuid.UUID, key: bytes, retention_days: int) -> Position:
    """Where a cursor stands: InvalidCursor if it is not one this API issued to this user,
    CursorExpired if it was issued more than `retention_days` ago (FEED_RETENTION_DAYS: how
    long a client may stay away and still sync incrementally)."""
    known = KNOWN_CURSORS.get((token, key))
    if known is None:
        known = verified_cursor(token, key)
        remember(KNOWN_CURSORS, (token, key), known)
    if known.user_id != str(user_id):
        raise InvalidCursor()
    if datetime.fromtimestamp(known.issued, UTC) < utcnow() - timedelta(days=retention_days):
        raise CursorExpired()
    return known.position


def verified_cursor(token: str, key: bytes) -> Known:
    """What a cursor signed with `key` holds; InvalidCursor if it is not one this API issued."""
    try:
        owner, number, issued, *rest = cursors.verified(token, key)
        spaces = rest.pop() if rest and isinstance(rest[-1], list) else []
        after = [uuid.UUID(each) for each in rest]
        position = Position(number, *after[:1], spaces=tuple(map(space_position, spaces)))
    except (ValueError, TypeError, AttributeError) as error:
        raise InvalidCursor() from error
    if type(owner) is not str or type(number) is not int or type(issued) is not int:
        raise InvalidCursor()
    if len(rest) > 1 or any(type(at.number) is not int for _, at in position.spaces):
        raise InvalidCursor()
    return Known(owner, position, issued)


def space_position(part: list) -> tuple[uuid.UUID, Position]:
    owner, number, *after = part
    return uuid.UUID(hex=owner), Position(number, *(uuid.UUID(hex=each) for each in after[:1]))


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
    reason: str | None = None  # why a shared list's row left a member's view


@dataclass
class Changes:
    """One page of the feed."""

    tasks: list[Row] = field(default_factory=list)
    deleted: list[Deleted] = field(default_factory=list)
    lists: list[Row] = field(default_factory=list)
    deleted_lists: list[Deleted] = field(default_factory=list)
    position: Position = START  # where the next page starts
    has_more: bool = False


def read_changes(caller: Caller, since: Position | None, limit: int) -> Changes:
    """The caller's changes after `since` (None: every live task, for a first sync), at most
    `limit` rows: a change of more rows spans pages, the cursor standing inside it.

    A member's page holds their own changes first (with their memberships' changes), then,
    while there is room, each owner's changes to the lists shared with them, owner by owner:
    each position moves only past what the page holds, so no page misses or repeats a row of
    any. An owner the cursor does not know yet is followed from their number now (a join
    brings the list as it is), or from the start in a first sync. An empty poll reads the
    caller's number and each followed owner's: one indexed read per space."""
    first_sync, since = since is None, since or START
    held = [owner for owner, _ in since.spaces]
    number, numbers = numbers_now(caller, held)
    if since.number > number:
        raise CursorExpired()  # from a database restored to an earlier state: start over
    own_done = not first_sync and since.number == number and since.after == LAST_ID
    if own_done and all(
        at == Position(now) for (_, at), now in zip(since.spaces, numbers, strict=True)
    ):
        return Changes(position=since)  # nothing new: the same position
    # Memberships change only with the caller's own number: while it stands, so do they.
    owners = held if own_done else shared.owners_of(caller.space_id)
    known = dict(zip(held, numbers, strict=True))
    spaces, ends = followed(owners, dict(since.spaces), first_sync, known)
    entries, position, has_more = [], Position(since.number, since.after), False
    if not own_done:
        parameters = {
            OWNER: caller.space_id,
            SINCE: since.number,
            AFTER: since.after,
            UPTO: number,
            LIMIT: limit + 1,
        }
        entries = entries_of(parameters, first_sync)
        if not first_sync:
            entries += shared.event_entries(caller.space_id, since, number, limit + 1)
            entries.sort(key=lambda entry: (entry.number, entry.id))
        entries, position, has_more = cut(entries[: limit + 1], limit, number)
    room = limit - len(entries)
    for owner, at in sorted(spaces.items()) if not has_more else ():
        if at == Position(ends[owner]):
            continue
        if room == 0:
            has_more = True
            break
        found = shared.space_entries(owner, caller.space_id, at, ends[owner], room + 1)
        taken, spaces[owner], has_more = cut(found[: room + 1], room, ends[owner])
        entries, room = entries + taken, room - len(taken)
        if has_more:
            break
    position = Position(position.number, position.after, tuple(sorted(spaces.items())))
    return page_of(entries, position, has_more)


def numbers_now(caller: Caller, owners: list[uuid.UUID]) -> tuple[int, list[int | None]]:
    """The caller's change number (TokenNotCurrent, saying why, when the token is not
    current), then each of `owners`' (None: the account is gone): one indexed read each, in
    turn on one connection."""
    runs = [(CURRENT_NUMBER, caller.parameters)]
    runs += [(shared.OWNER_NUMBER, {OWNER: owner}) for owner in owners]
    own, *theirs = rows_in_turn(runs)
    if not own:
        not_current(caller)
    return own[0].change_number, shared.first_numbers(theirs)


def followed(
    owners: list[uuid.UUID], held: dict, first_sync: bool, numbers: dict
) -> tuple[dict[uuid.UUID, Position], dict[uuid.UUID, int]]:
    """Where the caller stands in each owner's numbers, and each owner's number now (as
    `numbers` has it, else one read each; an owner whose account is gone is left out)."""
    missing = [owner for owner in owners if owner not in numbers]
    numbers = {**numbers, **dict(zip(missing, shared.owner_numbers(missing), strict=True))}
    spaces, ends = {}, {}
    for owner in owners:
        number = numbers[owner]
        if number is None:
            continue
        at = held.get(owner) or (START if first_sync else Position(number))
        if at.number > number:
            raise CursorExpired()
        spaces[owner], ends[owner] = at, number
    return spaces, ends


def page_upto(entries: list[Entry], limit: int, number: int) -> Changes:
    """The page of the first `limit` of `entries` (read up to the user's `number`, one more
    than a page asked for): its position ends inside a change if the next entry is of it."""
    return page_of(*cut(entries, limit, number))


def cut(entries: list[Entry], limit: int, number: int) -> tuple[list[Entry], Position, bool]:
    """The first `limit` of `entries` (one more than a page holds, if there are more), where
    the next page starts, and whether there is more up to `number`."""
    if len(entries) <= limit:
        return entries, Position(number), False
    last, following = entries[limit - 1], entries[limit]
    inside = following.number == last.number
    return entries[:limit], Position(last.number, uuid.UUID(last.id) if inside else LAST_ID), True


def check_current(caller: Caller) -> int:
    """The caller's change number; TokenNotCurrent, saying why, when the token is not."""
    number = current_number(caller)
    if number is None:
        not_current(caller)
    return number


def not_current(caller: Caller) -> NoReturn:
    """TokenNotCurrent, saying why, for a token a statement found not current."""
    load_account(caller)  # raises, saying why
    raise TokenNotCurrent(USER_GONE)


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
            deleted.append(Deleted(entry.id, entry.row.deleted_at, entry.purged, entry.reason))
    return page
