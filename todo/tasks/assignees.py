"""Whom a task is assigned to: its owner, or a member of its list (docs/sharing.md).

An assignment to a member is checked once the list's row is locked FOR SHARE, before the
task's own lock: ending a membership locks that row FOR NO KEY UPDATE before it unassigns
the member's tasks (`unassign`), so the two wait for each other, and an assignment never
outlives the membership it was checked against. An assignment to the owner, or to nobody,
reads nothing: the write is what it was. A task that changes lists keeps its assignee only
if they may be assigned there (`kept_in`, in the write's own UPDATE).
"""

import uuid
from functools import cache

from marshmallow import ValidationError
from sqlalchemy import Uuid, bindparam, case, exists, or_, select, true, update

from ..accounts.tokens import OWNER, Caller
from ..columns import utcnow
from ..extensions import db
from ..lists.models import lists
from ..sharing.models import list_members
from .changes import NOW, NUMBER, TAKE_NUMBER, numbered, stamped
from .models import tasks

ASSIGNEE, THE_LIST, THE_TASK = "assignee", "the_list", "the_task"
OWNER_ID = bindparam(OWNER, type_=Uuid)
NOT_ASSIGNABLE = (
    "Not someone this task can be assigned to: its owner, or a member of its list (null: nobody)."
)


def list_row(**lock):
    """The owner's list, locked as `lock` says (with_for_update's arguments)."""
    return (
        select(lists.c.id)
        .where(lists.c.user_id == OWNER_ID, lists.c.id == bindparam(THE_LIST, type_=Uuid))
        .with_for_update(**lock)
    )


# Locked FOR SHARE by an assignment; FOR NO KEY UPDATE by the end of a membership, first.
SHARE_LIST, LOCK_LIST = list_row(read=True), list_row(key_share=True)
# Whether the assignee is a member of the list: read once the list is locked, by a statement
# of its own (under READ COMMITTED a statement sees what committed before it started; a
# join locking the list would see the membership as it was when it began waiting).
MEMBER_OF_LIST = select(list_members.c.member_id).where(
    list_members.c.user_id == OWNER_ID,
    list_members.c.list_id == bindparam(THE_LIST, type_=Uuid),
    list_members.c.member_id == bindparam(ASSIGNEE, type_=Uuid),
)
# The list of a task, read before its lock (the list's lock comes first).
LIST_OF_TASK = select(tasks.c.list_id).where(
    tasks.c.user_id == OWNER_ID, tasks.c.id == bindparam(THE_TASK, type_=Uuid)
)


def assigns_member(caller: Caller, changes: dict) -> bool:
    """Whether a write assigns the task to someone other than its owner (or nobody): only
    then is there a membership to check."""
    return changes.get("assignee_id") not in (None, caller.space_id)


def checked(caller: Caller, task_id: uuid.UUID | None, changes: dict) -> tuple:
    """A write assigning a member: the membership checked (`check`) in the list the task
    goes to, as it is before the task (or the new task's parent) is locked: its new
    parent's, the one it names, else the task's (a new task's: the Inbox). That list as a
    1-tuple; () when there was nothing to check (no member assigned, or no such task or
    parent: the write says so). The write checks again if it ends up elsewhere (`recheck`)."""
    if not assigns_member(caller, changes):
        return ()
    if changes.get("parent_id") is not None:
        task_id = changes["parent_id"]
    elif "list_id" in changes or task_id is None:
        task_id = None
    found = None
    if task_id is not None:
        found = db.session.execute(LIST_OF_TASK, {OWNER: caller.space_id, THE_TASK: task_id})
        found = found.first()
        if found is None:
            return ()
    list_id = changes.get("list_id") if found is None else found.list_id
    check(caller, list_id, changes)
    return (list_id,)


def recheck(caller: Caller, checked_in: tuple, list_id: uuid.UUID | None, changes: dict) -> None:
    """The task's list once placed: checked too unless it is the one already checked (the
    task or its parent moved meanwhile)."""
    if assigns_member(caller, changes) and checked_in != (list_id,):
        check(caller, list_id, changes)


def check(caller: Caller, list_id: uuid.UUID | None, changes: dict) -> None:
    """A 422 on assignee_id unless the write's assignee may be assigned a task of `list_id`
    (None: the Inbox, the owner's alone); the list's row stays locked FOR SHARE."""
    parameters = {OWNER: caller.space_id, THE_LIST: list_id, ASSIGNEE: changes["assignee_id"]}
    if list_id is None or db.session.scalar(SHARE_LIST, parameters) is None:
        raise ValidationError({"assignee_id": [NOT_ASSIGNABLE]})
    if db.session.scalar(MEMBER_OF_LIST, parameters) is None:
        raise ValidationError({"assignee_id": [NOT_ASSIGNABLE]})


def lock_for_move(caller: Caller, current, list_id: uuid.UUID | None) -> None:
    """A task going into another list, assigned to a member or taking subtasks along: that
    list locked FOR SHARE before the UPDATE that keeps their assignees only if they are its
    members (`kept_in`), so that a member removed from it meanwhile is seen, or waits for
    the move and unassigns it. (A removal from the new list never waits for this task,
    which is not in it yet.) `current` is the task as stored and locked."""
    if list_id is None or str(list_id) == current.list_id:
        return
    if current.assignee_id not in (None, current.user_id) or current.subtasks_total:
        db.session.execute(SHARE_LIST, {OWNER: caller.space_id, THE_LIST: list_id})


def kept_in(list_id):
    """A task's assignee once it is in the list `list_id` (an expression): kept if it is
    the owner or a member of that list, else null."""
    member = exists().where(
        list_members.c.user_id == OWNER_ID,
        list_members.c.list_id == list_id,
        list_members.c.member_id == tasks.c.assignee_id,
    )
    assignable = or_(tasks.c.assignee_id.is_(None), tasks.c.assignee_id == tasks.c.user_id, member)
    return case((assignable, tasks.c.assignee_id), else_=None)


@cache
def unassign_shape(dialect: str):
    """The owner's tasks of one list assigned to one member, unassigned, written as a change
    (PENDING, numbered by `unassign`)."""
    values = stamped({"assignee_id": None}, true(), dialect, True)
    return (
        update(tasks)
        .where(
            tasks.c.user_id == OWNER_ID,
            tasks.c.list_id == bindparam(THE_LIST, type_=Uuid),
            tasks.c.assignee_id == bindparam(ASSIGNEE, type_=Uuid),
        )
        .values(**values)
    )


def unassign(owner_id: uuid.UUID, list_id: uuid.UUID, member_id: uuid.UUID) -> None:
    """Before a membership ends, in its transaction: the owner's tasks of the list assigned
    to the member are assigned to nobody, one change in the owner's space (a number of its
    own, so the owner's and the other members' feeds say so); no number if there were none.
    The list's row is locked first (FOR NO KEY UPDATE), as the removal and the leave already
    have it, for an account deletion that ends every membership of the account."""
    parameters = {OWNER: owner_id, THE_LIST: list_id, ASSIGNEE: member_id, NOW: utcnow()}
    db.session.execute(LOCK_LIST, parameters)
    if not db.session.execute(unassign_shape(db.engine.dialect.name), parameters).rowcount:
        return
    number = db.session.scalar(TAKE_NUMBER, {OWNER: owner_id})
    if number is not None:
        db.session.execute(numbered(tasks), {OWNER: owner_id, NUMBER: number})
