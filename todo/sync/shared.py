"""A member's feed of the lists shared with them, read beside their own (store.py): the
member's joins, role changes and ends from their own side (todo/sharing/events.py), and each
owner's changes from that owner's side, restricted to the lists shared with the member.

Every statement names one user: the member's events on the member's rows; an owner's tasks,
lists, tombstones and departures joined with that owner's `list_members` for this member, on
the owner's rows. Nothing is written for a member when a shared list changes (no fan-out):
each owner's changes are numbered by the owner, and the member's cursor keeps a position in
each owner's numbers beside their own.

What each source gives, by its number and id (the feed's order, store.Entry):
- an owner's tasks in the lists shared with the member (live, or in the trash: removed), the
  shared lists themselves (with the member's role; a trashed one removed), the tombstones of
  tasks purged from them, and the tasks that left them for a list the member cannot see
  (`list_departures`: removed with the reason `moved`);
- a join: the list and its live tasks as they are when read (the owner's side, while the
  member still is one); a role change: the list; an end: the list and every task the member
  may hold of it removed, with the end's reason.
"""

import uuid
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Uuid, and_, bindparam, exists, select, type_coerce

from ..accounts.models import users
from ..accounts.tokens import OWNER
from ..columns import UUIDText, utcnow
from ..database import rows_of_each, statement_rows
from ..sharing.access import LISTS_AND_MEMBERS, MEMBERSHIPS_OF
from ..sharing.events import JOINED, ROLE
from ..sharing.models import list_departures, list_members, membership_changes
from ..sharing.shared_lists import SHARED_ROW
from ..tasks.models import purged_tasks, tasks
from .rows import (
    AFTER,
    LAST_ID,
    LIMIT,
    LIST,
    MEMBER,
    SINCE,
    TASK,
    TASK_ENTRY,
    TOMBSTONE_ROW,
    UPTO,
    Entry,
    Position,
    changed,
)

MOVED = "moved"  # a task's removal reason when it left the lists shared with the member
OWNER_ID = bindparam(OWNER, type_=Uuid)
MEMBER_ID = bindparam(MEMBER, type_=Uuid)
THE_LIST = bindparam("the_list", type_=Uuid)


def shared_with_member(table):
    """`table`'s rows of the owner's, joined with the owner's list_members for the member."""
    return and_(
        list_members.c.user_id == table.c.user_id,
        list_members.c.list_id == table.c.list_id,
        list_members.c.user_id == OWNER_ID,
        list_members.c.member_id == MEMBER_ID,
    )


def of_shared(table, columns, live_only=False):
    joined = table.join(list_members, shared_with_member(table))
    return changed(select(*columns).select_from(joined), live_only, table)


TASKS = of_shared(tasks, TASK_ENTRY)
LIVE_TASKS = of_shared(tasks, TASK_ENTRY, live_only=True)
TOMBSTONES = of_shared(purged_tasks, TOMBSTONE_ROW)
SHARED_LISTS_AFTER = changed(
    select(*SHARED_ROW)
    .select_from(LISTS_AND_MEMBERS)
    .where(list_members.c.user_id == OWNER_ID, list_members.c.member_id == MEMBER_ID),
    False,
    LISTS_AND_MEMBERS.left,
)
LIVE_SHARED_LISTS_AFTER = SHARED_LISTS_AFTER.where(LISTS_AND_MEMBERS.left.c.deleted_at.is_(None))
# A task now in a list shared with the member: what it says wins over its departures.
still_shared = list_members.alias("still_shared")
STILL_SHARED = exists().where(
    still_shared.c.user_id == OWNER_ID,
    still_shared.c.list_id == tasks.c.list_id,
    still_shared.c.member_id == MEMBER_ID,
)
DEPARTED = changed(
    select(
        type_coerce(list_departures.c.task_id, UUIDText()).label("id"),
        list_departures.c.change_number,
        tasks.c.updated_at.label("deleted_at"),
    )
    .select_from(
        list_departures.join(list_members, shared_with_member(list_departures)).outerjoin(
            tasks,
            and_(tasks.c.user_id == OWNER_ID, tasks.c.id == list_departures.c.task_id),
        )
    )
    .where(~STILL_SHARED),
    False,
    list_departures,
    list_departures.c.task_id,
)
# Each kind's reads: (of a first sync, of later ones), then the removals.
SPACE_READS = ((TASK, LIVE_TASKS, TASKS), (LIST, LIVE_SHARED_LISTS_AFTER, SHARED_LISTS_AFTER))
OWNER_NUMBER = select(users.c.change_number).where(users.c.id == OWNER_ID)

# The member's side: their membership changes after a number, up to theirs.
EVENTS = (
    select(membership_changes)
    .where(
        membership_changes.c.user_id == MEMBER_ID,
        membership_changes.c.change_number >= bindparam(SINCE),
        membership_changes.c.change_number <= bindparam(UPTO),
    )
    .order_by(membership_changes.c.change_number)
)
# A join's list, and its live tasks by id, as the owner's side has them for the member now.
JOINED_LIST = (
    select(*SHARED_ROW)
    .select_from(LISTS_AND_MEMBERS)
    .where(
        list_members.c.user_id == OWNER_ID,
        list_members.c.member_id == MEMBER_ID,
        list_members.c.list_id == THE_LIST,
    )
)
JOINED_TASKS = (
    select(*TASK_ENTRY)
    .select_from(tasks.join(list_members, shared_with_member(tasks)))
    .where(
        tasks.c.user_id == OWNER_ID,
        tasks.c.list_id == THE_LIST,
        tasks.c.deleted_at.is_(None),
        tasks.c.id > bindparam(AFTER, type_=Uuid),
    )
    .order_by(tasks.c.id)
    .limit(bindparam(LIMIT))
)


class Removed(NamedTuple):
    """What a removal from a member's view carries (its entry says why)."""

    deleted_at: datetime


def owners_of(member_id: uuid.UUID) -> list[uuid.UUID]:
    """Who shares a list with the member (the member's side), in order."""
    rows = statement_rows(MEMBERSHIPS_OF, {MEMBER: member_id})
    return sorted({row.owner_id for row in rows})


def owner_numbers(owner_ids: list[uuid.UUID]) -> list[int | None]:
    """Each owner's change number (one indexed read each, on one connection); None once the
    account is gone."""
    return first_numbers(rows_of_each(OWNER_NUMBER, [{OWNER: owner} for owner in owner_ids]))


def first_numbers(found: list[list]) -> list[int | None]:
    """The number each OWNER_NUMBER read found; None where it found no account."""
    return [rows[0].change_number if rows else None for rows in found]


def space_entries(
    owner_id: uuid.UUID, member_id: uuid.UUID, since: Position, upto: int, limit: int
) -> list[Entry]:
    """What changed of the owner's lists shared with the member after `since`, up to `upto`,
    the first `limit` in feed order (from the start, a first sync: live rows only)."""
    first_sync = since == Position(0)
    parameters = {OWNER: owner_id, MEMBER: member_id, SINCE: since.number, AFTER: since.after}
    parameters.update({UPTO: upto, LIMIT: limit})
    entries = []
    for kind, live_rows, rows in SPACE_READS:
        found = statement_rows(live_rows if first_sync else rows, parameters)
        entries += [Entry(row.change_number, row.id, row, False, kind) for row in found]
    if not first_sync:
        for row in statement_rows(TOMBSTONES, parameters):
            entries.append(Entry(row.change_number, row.id, row, True, TASK))
        for row in statement_rows(DEPARTED, parameters):
            removed = Removed(row.deleted_at or utcnow())
            entries.append(Entry(row.change_number, row.id, removed, True, TASK, MOVED))
    return once_each(entries)


def once_each(entries: list[Entry]) -> list[Entry]:
    """The entries in feed order, one per (number, id): a task purged in the change that took
    it out of a list is told once, and a position between two of one key cannot be."""
    entries.sort(key=lambda entry: (entry.number, entry.id, entry.purged))
    kept = []
    for entry in entries:
        if not kept or (kept[-1].number, kept[-1].id) != (entry.number, entry.id):
            kept.append(entry)
    return kept


def event_entries(member_id: uuid.UUID, since: Position, upto: int, limit: int) -> list[Entry]:
    """What the member's membership changes after `since`, up to `upto`, bring: in feed order,
    enough to fill `limit` (each change's entries share its number, ordered by id)."""
    parameters = {MEMBER: member_id, SINCE: since.number, UPTO: upto}
    entries: list[Entry] = []
    for event in statement_rows(EVENTS, parameters):
        after = since.after if event.change_number == since.number else None
        if event.change_number == since.number and since.after == LAST_ID:
            continue
        if len(entries) >= limit:
            break
        entries += expanded(event, member_id, after, limit)
    return entries


def expanded(event, member_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Entry]:
    """One membership change's entries after the id `after` (None: all), at most `limit`."""
    number, list_id = event.change_number, str(event.list_id)
    entries = []
    if event.kind in (JOINED, ROLE):
        parameters = {OWNER: event.owner_id, MEMBER: member_id, "the_list": event.list_id}
        for row in statement_rows(JOINED_LIST, parameters):
            entries.append(Entry(number, row.id, row, False, LIST))
        if event.kind == JOINED:
            parameters.update({AFTER: after or uuid.UUID(int=0), LIMIT: limit})
            tasks_now = statement_rows(JOINED_TASKS, parameters)
            entries += [Entry(number, row.id, row, False, TASK) for row in tasks_now]
    else:
        at, reason = event.happened_at, event.kind
        entries.append(Entry(number, list_id, Removed(at), True, LIST, reason))
        ids = [each for each in event.task_ids or () if each != list_id]
        entries += [Entry(number, each, Removed(at), True, TASK, reason) for each in ids]
    if after is not None:
        entries = [entry for entry in entries if uuid.UUID(entry.id) > after]
    entries.sort(key=lambda entry: entry.id)
    return entries[:limit]
