"""One task of the caller's space, as every task statement names it: the conditions and reads
the task modules share, and the errors that say what a statement did not find.

A statement is narrowed to the space's user and the task's id together, so another user's
task is simply not found; a statement that acts for the caller also carries the condition
that the caller's token is still current (TOKEN_IS_CURRENT), so a request is one round trip,
and only a statement that finds nothing looks at the token on its own (`not_found`), to tell
401 from 404. If-Match is a condition of the write statement itself (`guarded`): of two
writers holding the same ETag exactly one wins. (flask-smorest's `@blp.etag` compares ETags
in Python after reading the row, where both could pass.)
"""

import uuid
from functools import cache
from typing import NoReturn

from sqlalchemy import Boolean, Row, Uuid, bindparam, exists, or_, select

from ..accounts.models import users
from ..accounts.store import load_account
from ..accounts.tokens import ACTOR, OWNER, READING, TOKEN_IS_CURRENT, Caller
from ..columns import UTCDateTime
from ..extensions import db
from ..sharing.models import list_members
from .changes import Change
from .models import TASK_ROW, purged_tasks, tasks

# The bind parameters of the task statements (beside the caller's); a new value of a column
# is `new_<column>`.
TASK_ID, VERSIONS, KEPT_SINCE = "task_id", "versions", "kept_since"


def new_value(column: str) -> str:
    return f"new_{column}"


class TaskNotFound(Exception):
    def __init__(self):
        super().__init__("Task not found")  # the spec's wording, which its clients may compare


class TaskChanged(Exception):
    def __init__(self):
        super().__init__("The task has changed since the ETag in If-Match.")


class TaskGone(Exception):
    def __init__(self):
        super().__init__("The task was purged from the trash; it cannot be restored.")


class IdConflict(Exception):
    def __init__(self):
        super().__init__(
            "A task with this id exists, existed, or was created with another body; "
            "choose a new id."
        )


LIVE = tasks.c.deleted_at.is_(None)
# In the trash and not yet expired (KEPT_SINCE: `kept_since`): restorable, and listed.
kept = bindparam(KEPT_SINCE, type_=UTCDateTime)
IN_TRASH = tasks.c.deleted_at >= kept


# Where in the space a member may act: on the tasks of the lists the owner's side
# (list_members, on the owner's shard: the same statement) shares with them, and when writing
# only as an editor. Asked by the statement itself, so a removal or a role change holds from
# the member's very next statement (docs/sharing.md). An owner acts everywhere in their own
# space: their statements are built without it (CALLER_MAY alone), and a member's are the
# same statements with it (`run_by`), each compiled once; an owner's statement carrying it
# with a bound `true` cost a task read ~5% of its instructions (bench/RESULTS.md).
IN_SPACE = exists().where(
    list_members.c.user_id == bindparam(OWNER, type_=Uuid),
    list_members.c.list_id == tasks.c.list_id,
    list_members.c.member_id == bindparam(ACTOR, type_=Uuid),
    or_(bindparam(READING, type_=Boolean), list_members.c.role == "editor"),
)
CALLER_MAY = TOKEN_IS_CURRENT


@cache
def for_member(statement):
    """A statement over one task (or its subtasks) of the space, as a member runs it."""
    return statement.where(IN_SPACE)


def run_by(caller: Caller, statement):
    """`statement` (built with CALLER_MAY) as `caller` runs it: as it is in one's own space,
    narrowed to the lists shared with a member in another's."""
    return statement if caller.shared is None else for_member(statement)


def mine(statement):
    """Narrow a statement to one task of the caller, so another user's task is not found."""
    return statement.where(
        tasks.c.user_id == bindparam(OWNER, type_=Uuid),
        tasks.c.id == bindparam(TASK_ID, type_=Uuid),
    )


def owned(statement):
    """One live task of the caller while the token is current."""
    return mine(statement).where(LIVE, CALLER_MAY)


def guarded(statement, by_version: bool):
    """`statement` for one of the caller's tasks while the token is current, and if If-Match
    names versions, one of them."""
    statement = mine(statement).where(CALLER_MAY)
    if by_version:
        statement = statement.where(tasks.c.version.in_(bindparam(VERSIONS, expanding=True)))
    return statement


# The caller's tasks whose parent is TASK_ID, live or trashed.
SUBTASKS_OF_TASK = (
    tasks.c.user_id == bindparam(OWNER, type_=Uuid),
    tasks.c.parent_id == bindparam(TASK_ID, type_=Uuid),
)


def ownership(caller: Caller, task_id: uuid.UUID) -> dict:
    return {**caller.parameters, TASK_ID: task_id}


# Built once; the reads every single-task route may run.
SELECT_TASK = owned(select(*TASK_ROW))
SELECT_TASK_VERSION = owned(select(tasks.c.version))
SELECT_TASK_LOCKED = SELECT_TASK.with_for_update(of=tasks)  # no-op on SQLite: BEGIN IMMEDIATE
SELECT_TASK_STATE = owned(select(tasks.c.version, tasks.c.recurrence_rule))
USER_ZONE = select(users.c.timezone).where(users.c.id == bindparam(OWNER, type_=Uuid))
# Any task of the caller, live or trashed, and its tombstone: to tell 404 from 410.
SELECT_ANY_TASK = mine(select(*TASK_ROW)).where(CALLER_MAY)
SELECT_MINE_ID = mine(select(tasks.c.id))
TOMBSTONE = exists().where(
    purged_tasks.c.user_id == bindparam(OWNER, type_=Uuid),
    purged_tasks.c.id == bindparam(TASK_ID, type_=Uuid),
)


def not_found(caller: Caller) -> NoReturn:
    """What a statement that found no task means: TokenNotCurrent if the token is why, else
    TaskNotFound."""
    load_account(caller)
    raise TaskNotFound()


def shape_for(shape, within: Change | None, *options):
    """A shape built per dialect, and whether it is written inside a change."""
    return shape(db.engine.dialect.name, within is not None, *options)


def where(task: Row) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """A task's parent and list (as structure.placed takes them)."""
    return uuid_or_none(task.parent_id), uuid_or_none(task.list_id)


def uuid_or_none(text: str | None) -> uuid.UUID | None:
    return None if text is None else uuid.UUID(text)
