"""What the change feed's reads share: the rows they select, in (number, id) order after a
position, and where a client stands in one user's numbers."""

import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Integer, Uuid, bindparam, tuple_, type_coerce

from ..accounts.tokens import OWNER
from ..columns import UUIDText
from ..tasks.models import ANSWER_ROW, purged_tasks, tasks

SINCE, AFTER, UPTO, LIMIT, MEMBER = "since", "after", "upto", "limit", "member"
# The id above every id: a position after the whole of a number.
LAST_ID = uuid.UUID(int=2**128 - 1)
TASK, LIST = "task", "list"  # the kinds of row in the feed


class Position(NamedTuple):
    """Where a client stands: every change up to `number` read, and of the next one the rows
    up to the id `after`, if a page ended inside it (else LAST_ID). A member's position also
    holds one in each owner's numbers who shares a list with them (`spaces`: (owner id,
    Position) pairs, by owner id)."""

    number: int
    after: uuid.UUID = LAST_ID
    spaces: tuple = ()


START = Position(0)


def changed(statement, live_only: bool, table=None, id_column=None):
    """`statement` over tasks or tombstones (or `table`, when it reads a join), narrowed to
    the user's rows after (SINCE, AFTER) in (number, id) order and up to UPTO, LIMIT of them,
    in that order.

    UPTO is the user's number read first: every change up to it has committed, so the tasks
    and the tombstones, read by two statements, agree on it. A change committed between them
    (a purge that turns a task into a tombstone) is above it, and waits for the next page."""
    table = statement.get_final_froms()[0] if table is None else table
    number, row_id = table.c.change_number, table.c.id if id_column is None else id_column
    statement = statement.where(
        table.c.user_id == bindparam(OWNER, type_=Uuid),
        tuple_(number, row_id)
        > tuple_(bindparam(SINCE, type_=BigInteger), bindparam(AFTER, type_=Uuid)),
        number <= bindparam(UPTO, type_=BigInteger),
    ).limit(bindparam(LIMIT, type_=Integer))
    if live_only:
        statement = statement.where(table.c.deleted_at.is_(None))
    return statement.order_by(number, row_id)


TOMBSTONE_ROW = (
    type_coerce(purged_tasks.c.id, UUIDText()).label("id"),
    purged_tasks.c.deleted_at,
    purged_tasks.c.change_number,
)
TASK_ENTRY = (*ANSWER_ROW, tasks.c.change_number)


@dataclass(frozen=True, slots=True)
class Entry:
    """A row of the feed: a task or a list, or a purged one's tombstone (or a row taken from
    a member's view, with the `reason`)."""

    number: int
    id: str
    row: Any
    purged: bool
    kind: str
    reason: str | None = None
