"""Each user's change counter: every write that changes a user's tasks takes the next number
while holding the user's row, and stamps it on every row it changes (and on tombstones).

Numbers are taken under the row's lock, which is held until the write commits, so they are
handed out in commit order: a reader that has seen number N has seen every change up to N,
and the change feed (todo/tasks/feed.py) can promise that what it reads above N is all there
is. A write that fails after taking a number leaves a gap, which no reader minds.

A write takes its number one of two ways:
- INLINE, on PostgreSQL, for the writes of one statement: the number is taken by a
  data-modifying CTE of that very statement (no extra round trip);
- GIVEN, in a `change()` block, for the rest (writes of several statements, a batch, and
  every write on SQLite): the block takes the number first, in its transaction, and each
  statement is handed it as the parameter NUMBER.
Either way the taking carries the token check (CALLER_ROW_IS_CURRENT), so a statement
numbered this way needs no other.
"""

import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import BigInteger, ColumnElement, Uuid, bindparam, exists, select, true, update
from sqlalchemy.sql.selectable import CTE

from ..database import transaction
from ..extensions import db
from .models import users
from .store import load_account
from .tokens import CALLER_ROW_IS_CURRENT, OWNER, USER_GONE, Caller, TokenNotCurrent

NUMBER = "change_number"  # the bind parameter of a GIVEN number


def taking(condition) -> object:
    """UPDATE of the users row that takes the next number, where `condition` holds."""
    return (
        update(users)
        .where(condition)
        .values(change_number=users.c.change_number + 1)
        .returning(users.c.id, users.c.change_number)
    )


TAKE_NUMBER = taking(CALLER_ROW_IS_CURRENT)
# For maintenance (flask todo purge), which acts for a user without a token.
TAKE_OWNERS_NUMBER = taking(users.c.id == bindparam(OWNER, type_=Uuid))
# The user's number and nothing else: what a conditional list and an empty feed poll read.
CURRENT_NUMBER = select(users.c.change_number).where(CALLER_ROW_IS_CURRENT)


@dataclass(frozen=True)
class Numbering:
    """How a statement gets its change number: `number` is the value to stamp, `gate` a
    condition true only if the number was taken, `cte` what the statement must carry."""

    number: ColumnElement
    gate: ColumnElement
    cte: CTE | None = None

    def attach(self, statement):
        return statement if self.cte is None else statement.add_cte(self.cte)


TAKEN = TAKE_NUMBER.cte("taken_number")
INLINE = Numbering(
    select(TAKEN.c.change_number).scalar_subquery(), exists(select(TAKEN.c.id)), TAKEN
)
GIVEN = Numbering(bindparam(NUMBER, type_=BigInteger), true())


@dataclass(frozen=True, slots=True)
class Change:
    """A write in progress: the user it is for and the number its rows are stamped with."""

    user_id: uuid.UUID
    number: int


def takes_inline() -> bool:
    """Whether a one-statement write takes its number inline (PostgreSQL) or in a `change()`."""
    return db.engine.dialect.name == "postgresql"


@contextmanager
def change(caller: Caller):
    """One transaction that took the caller's next number (TokenNotCurrent if the token is
    not current): every statement in the block is stamped with it, and lands with it."""
    with transaction():
        taken = db.session.execute(TAKE_NUMBER, caller.parameters).first()
        if taken is None:
            load_account(caller)  # raises, saying why the token is not current
            raise TokenNotCurrent(USER_GONE)  # deleted between the two statements
        yield Change(caller.user_id, taken.change_number)


@contextmanager
def owners_change(user_id: uuid.UUID):
    """`change()` for maintenance, which acts for a user without a token. None is yielded
    when the user no longer exists."""
    with transaction():
        taken = db.session.execute(TAKE_OWNERS_NUMBER, {OWNER: user_id}).first()
        yield None if taken is None else Change(user_id, taken.change_number)


def current_number(caller: Caller) -> int | None:
    """The caller's number now; None if the token is not current."""
    return db.session.scalar(CURRENT_NUMBER, caller.parameters)
