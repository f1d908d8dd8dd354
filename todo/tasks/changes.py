"""Each user's change counter: every write that changes a user's tasks takes the next number
while holding the user's row, and stamps it on every row it changes (and on tombstones).

Numbers are taken under the row's lock, which is held until the write commits, so they are
handed out in commit order: a reader that has seen number N has seen every change up to N,
and the change feed (todo/sync/store.py) can promise that what it reads above N is all there
is. A write that fails after taking a number leaves a gap, which no reader minds.

A write of one row takes its number in the row's own trigger (migration 0007), after the row's
lock and only if the row really changed: the statement is the same as without numbers. A
`change()` of several statements (a batch, a purge with its tombstone) writes its rows with
PENDING instead, which the triggers leave alone, and takes one number for all of them at its
end. Either way a user's row is locked after the task rows, the order the counting triggers
and account deletion lock them in too, so no two writes deadlock over it.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count

from sqlalchemy import Uuid, bindparam, case, literal_column, select, true, update

from ..accounts.models import users
from ..accounts.tokens import CALLER_ROW_IS_CURRENT, OWNER, Caller
from ..columns import UTCDateTime
from ..database import first_value, transaction
from ..extensions import db
from ..lists.models import lists, purged_lists
from ..sharing.models import list_departures
from .models import purged_tasks, tasks

PENDING = -1  # the number of a row written by a change still in progress
NUMBER = "change_number"  # the bind parameter for it
NOW = "now"  # the bind parameter of the instant a write stamps (created_at, updated_at)
now = bindparam(NOW, type_=UTCDateTime)

TAKE_NUMBER = (
    update(users)
    .where(users.c.id == bindparam(OWNER, type_=Uuid))
    .values(change_number=users.c.change_number + 1)
    .returning(users.c.change_number)
)
# The user's number and nothing else (while the token is current): what an empty feed poll
# reads.
CURRENT_NUMBER = select(users.c.change_number).where(CALLER_ROW_IS_CURRENT)


def numbered(table):
    """Give the change's number to `table`'s rows it wrote."""
    return (
        update(table)
        .where(
            table.c.user_id == bindparam(OWNER, type_=Uuid),
            table.c.change_number == PENDING,
        )
        .values(change_number=bindparam(NUMBER))
    )


NUMBERED = [numbered(tasks), numbered(purged_tasks)]
# A change whose number was taken before its end (`number_now`) gives it to the departures it
# wrote after that too, which the statement that took it could not number.
NUMBERED_LATE = [numbered(list_departures)]
# On PostgreSQL a change's number is given to the departures from shared lists it wrote
# (todo/sharing/models.py, by a trigger) in the statement that takes it, a data-modifying
# CTE: no round trip more for any change (SQLite's trigger on users does it there, 0019).
TAKEN = TAKE_NUMBER.cte("taken")
TAKE_NUMBER_FOR_DEPARTURES = select(TAKEN.c.change_number).add_cte(
    update(list_departures)
    .where(
        list_departures.c.user_id == bindparam(OWNER, type_=Uuid),
        list_departures.c.change_number == PENDING,
    )
    .values(change_number=select(TAKEN.c.change_number).scalar_subquery())
    .returning(list_departures.c.task_id)
    .cte("departed")
)
# A change of lists writes these too (only such a change reads them).
NUMBERED_LISTS = [numbered(lists), numbered(purged_lists)]


def stamped(values: dict, changed, dialect: str, pending: bool) -> dict:
    """`values` plus what moves when a task changes (if `changed`): its version, inside a
    change its number (PENDING until the change ends) and, on SQLite, updated_at.

    On PostgreSQL, `updated_at` is stamped by a row trigger when the version moves (migrations
    0006, 0007), after the row's lock and the user's number: a later change never carries an
    earlier time, and no volatile function in the UPDATE (refused on Citus). SQLite has no
    such clock: the app's is read just before the write, so two writers racing on one task
    there can still stamp out of order."""
    # The 1 and PENDING written into the SQL: bound, each would be one more parameter of
    # every task write for psycopg2 to adapt
    values["version"] = when(changed, tasks.c.version + literal_column("1"), tasks.c.version)
    if pending:
        values["change_number"] = when(changed, literal_column(str(PENDING)), tasks.c.change_number)
    if dialect != "postgresql":
        values["updated_at"] = when(changed, now, tasks.c.updated_at)
    return values


def when(changed, new, old):
    """`new` if `changed`, else `old`; just `new` for a write that always changes (`true()`:
    a flip, a move to the trash or back, a re-spaced order, subtasks following their parent),
    not a CASE whose other branch PostgreSQL parses on every run and never takes."""
    return new if changed is true() else case((changed, new), else_=old)


@dataclass(frozen=True, slots=True)
class Change:
    """A change of several statements in progress, for one user: its rows carry PENDING. The
    tasks it adds at the end are counted (`appended`), so that each gets a key of its own.
    Its number, if taken before its end (`number_now`), is `taken`'s."""

    user_id: uuid.UUID
    appended: Iterator[int] = field(default_factory=count)
    taken: list[int] = field(default_factory=list)


def number_now(within: Change) -> int | None:
    """The change's number, taken now rather than at its end, for rows written after this
    with their number (an import's new tasks, portability/bulk.py: numbering them at the
    end would write each twice); the user's row stays locked until the change commits, so
    take it after the change's last lock of an existing task. None if the user is gone."""
    if not within.taken:
        postgresql = db.engine.dialect.name == "postgresql"
        taking = TAKE_NUMBER_FOR_DEPARTURES if postgresql else TAKE_NUMBER
        number = db.session.scalar(taking, {OWNER: within.user_id})
        if number is None:
            return None
        within.taken.append(number)
    return within.taken[0]


@contextmanager
def change(user_id: uuid.UUID, of_lists: bool = False):
    """One transaction whose writes (stamped PENDING) all get one number, taken at its end;
    nothing of it lands if the block raises. A change `of_lists` may write lists too."""
    with transaction():
        yield (within := Change(user_id))
        taken_early = bool(within.taken)
        number = number_now(within)
        if number is not None:  # None: the user is gone, and with it every row written here
            late = NUMBERED_LATE if taken_early else []
            for statement in NUMBERED + (NUMBERED_LISTS if of_lists else []) + late:
                db.session.execute(statement, {OWNER: user_id, NUMBER: number})


@contextmanager
def joined(user_id: uuid.UUID, within: Change | None) -> Iterator[Change]:
    """The change `within` when there is one (a batch's), else a change of the user's own:
    for writes that need one either way."""
    if within is not None:
        yield within
        return
    with change(user_id) as own:
        yield own


def current_number(caller: Caller) -> int | None:
    """The caller's number now; None if the token is not current."""
    return first_value(CURRENT_NUMBER, caller.parameters)
