"""The trash: a deleted task waits there (with its subtasks) until it is restored, purged, or
expires; a purge deletes for good and leaves a tombstone for the change feed. Each write is
one statement that carries its guards (rows.guarded), except a purge, which records its
tombstones in the same change."""

import uuid
from datetime import datetime
from functools import cache

from sqlalchemy import Row, Uuid, and_, bindparam, delete, exists, insert, or_, select, true, update

from ..accounts.store import load_account
from ..accounts.tokens import ACTOR, OWNER, TOKEN_IS_CURRENT, Caller
from ..columns import UTCDateTime, utcnow
from ..extensions import db
from .changes import NOW, PENDING, Change, change, joined, now, stamped
from .models import TASK_ROW, purged_tasks, tasks
from .rows import (
    CALLER_MAY,
    IN_TRASH,
    KEPT_SINCE,
    LIVE,
    SELECT_ANY_TASK,
    SELECT_MINE_ID,
    SELECT_TASK,
    SUBTASKS_OF_TASK,
    TASK_ID,
    TOMBSTONE,
    VERSIONS,
    TaskChanged,
    TaskGone,
    guarded,
    kept,
    mine,
    not_found,
    ownership,
    run_by,
    shape_for,
)
from .writes import RACE_RETRIES, TaskWrite, guarded_write

# What a tombstone keeps of a task purged for good (its list: for the list's members' feeds).
TOMBSTONED = (tasks.c.id, tasks.c.deleted_at, tasks.c.list_id)
BY_ACTOR = {"updated_by": bindparam(ACTOR, type_=Uuid)}  # a trash or a restore is the caller's


class ParentInTrash(Exception):
    def __init__(self):
        super().__init__("Its parent task is in the trash: restore the parent (with it).")


@cache
def trash_shape(dialect: str, pending: bool, by_version: bool):
    """Move a live task to the trash, and its live subtasks with it, in one statement: they
    share its deleted_at, by which its restore knows them. A subtask goes if its parent is
    live (and at a version If-Match allows) or was just trashed by this statement (SQLite
    may visit the parent first)."""
    values = stamped({**BY_ACTOR, "deleted_at": now}, true(), dialect, pending)
    task_id, parent = bindparam(TASK_ID, type_=Uuid), tasks.alias("parent")
    the_task, parent_live = [tasks.c.id == task_id], [parent.c.deleted_at.is_(None)]
    if by_version:
        allowed = bindparam(VERSIONS, expanding=True)
        the_task.append(tasks.c.version.in_(allowed))
        parent_live.append(parent.c.version.in_(allowed))
    parent_going = exists().where(
        parent.c.user_id == bindparam(OWNER, type_=Uuid),
        parent.c.id == task_id,
        or_(and_(*parent_live), parent.c.deleted_at == now),
    )
    statement = update(tasks).values(**values)
    return statement.where(
        tasks.c.user_id == bindparam(OWNER, type_=Uuid),
        LIVE,
        CALLER_MAY,
        or_(and_(*the_task), and_(tasks.c.parent_id == task_id, parent_going)),
    ).returning(tasks.c.id)


@cache
def restore_shape(dialect: str, pending: bool, by_version: bool):
    """Bring a task back from the trash (unless it expired there, or it is a subtask whose
    parent is in the trash) and, in the same statement, its subtasks trashed with it: those
    whose deleted_at is its own (read by a subquery, which sees the rows as the statement
    found them)."""
    values = stamped({**BY_ACTOR, "deleted_at": None}, true(), dialect, pending)
    task_id, owner = bindparam(TASK_ID, type_=Uuid), bindparam(OWNER, type_=Uuid)
    parent, this = tasks.alias("parent"), tasks.alias("this")
    parent_live = exists().where(
        parent.c.user_id == owner, parent.c.id == tasks.c.parent_id, parent.c.deleted_at.is_(None)
    )
    the_task = [tasks.c.id == task_id, IN_TRASH, or_(tasks.c.parent_id.is_(None), parent_live)]
    trashed_at = [this.c.user_id == owner, this.c.id == task_id, this.c.deleted_at >= kept]
    if by_version:
        allowed = bindparam(VERSIONS, expanding=True)
        the_task.append(tasks.c.version.in_(allowed))
        trashed_at.append(this.c.version.in_(allowed))
    was = select(this.c.deleted_at).where(*trashed_at).scalar_subquery()
    statement = update(tasks).values(**values)
    return statement.where(
        tasks.c.user_id == owner,
        CALLER_MAY,
        or_(and_(*the_task), and_(tasks.c.parent_id == task_id, tasks.c.deleted_at == was)),
    ).returning(*TASK_ROW)


@cache
def purge_shape(by_version: bool):
    """Delete a task, live or trashed, for good; what its tombstone needs."""
    return guarded(delete(tasks), by_version).returning(*TOMBSTONED)


# A task's subtasks, live or trashed: purged with it (first: they reference it).
PURGE_SUBTASKS = delete(tasks).where(*SUBTASKS_OF_TASK).returning(*TOMBSTONED)
EMPTY_TRASH = (
    delete(tasks)
    .where(
        tasks.c.user_id == bindparam(OWNER, type_=Uuid),
        tasks.c.deleted_at.is_not(None),
        TOKEN_IS_CURRENT,
    )
    .returning(*TOMBSTONED)
)
EXPIRED_TRASH = (
    delete(tasks)
    .where(
        tasks.c.user_id == bindparam(OWNER, type_=Uuid),
        tasks.c.deleted_at < bindparam(KEPT_SINCE, type_=UTCDateTime),
    )
    .returning(*TOMBSTONED)
)


def trash_task(write: TaskWrite) -> None:
    """Move a live task to the trash, guarded by If-Match like every write."""
    shape = shape_for(trash_shape, write.within, write.versions is not None)
    guarded_write(shape, write, {}, False)


def restore_task(write: TaskWrite, since: datetime) -> Row:
    """Bring a task back from a trash that keeps what was deleted `since`, with the subtasks
    trashed with it, in one statement. A live task comes back as it is (If-Match still
    applies); TaskGone if it was purged or expired; ParentInTrash for a subtask whose parent
    is in the trash."""
    caller, task_id, versions = write.caller, write.task_id, write.versions
    shape = run_by(caller, shape_for(restore_shape, write.within, versions is not None))
    parameters = {**ownership(caller, task_id), KEPT_SINCE: since, VERSIONS: versions}
    for _ in range(RACE_RETRIES):
        restored = db.session.execute(shape, {**parameters, NOW: utcnow()}).all()
        task = next((row for row in restored if row.id == str(task_id)), None)
        if task is not None:
            if len(restored) == 1:
                return task
            # Its subtasks came back too, and their triggers counted them after the row the
            # statement returned: the task as it is now.
            select_task = run_by(caller, SELECT_TASK)
            return db.session.execute(select_task, ownership(caller, task_id)).first()
        task = db.session.execute(run_by(caller, SELECT_ANY_TASK), ownership(caller, task_id))
        task = task.first()
        if task is None:
            if db.session.scalar(select(TOMBSTONE), ownership(caller, task_id)):
                raise TaskGone()
            not_found(caller)
        if task.deleted_at is not None and task.deleted_at < since:
            raise TaskGone()  # expired in the trash: gone, whether or not purged yet
        if versions is not None and task.version not in versions:
            raise TaskChanged()
        if task.deleted_at is None:
            return task  # live: as it is
        if task.parent_id is not None and not db.session.scalar(
            PARENT_IS_LIVE, {OWNER: caller.space_id, TASK_ID: uuid.UUID(task.parent_id)}
        ):
            raise ParentInTrash()
        # In the trash after all: the restore raced the delete that put it there (RACE_RETRIES).
    raise TaskChanged()


PARENT_IS_LIVE = select(mine(select(tasks.c.id)).where(LIVE).exists())


def entomb(within: Change, removed: list[Row]) -> None:
    """Record tasks just deleted for good, for the feed; numbered with the change."""
    if removed:
        purged_at = utcnow()
        db.session.execute(
            insert(purged_tasks),
            [
                {
                    "user_id": within.user_id,
                    "id": uuid.UUID(str(row.id)),
                    "change_number": PENDING,
                    "deleted_at": row.deleted_at or purged_at,
                    "purged_at": purged_at,
                    "list_id": row.list_id,
                }
                for row in removed
            ],
        )


def purge_task(write: TaskWrite) -> None:
    """Delete a task (live or trashed) for good, with its subtasks, in the change it belongs
    to or one of its own; their tombstones stay for the feed."""
    parameters = {**ownership(write.caller, write.task_id), VERSIONS: write.versions}
    with joined(write.caller.space_id, write.within) as within:
        subtasks = db.session.execute(PURGE_SUBTASKS, parameters).all()
        purge = run_by(write.caller, purge_shape(write.versions is not None))
        removed = db.session.execute(purge, parameters).first()
        if removed is None:
            if db.session.scalar(SELECT_MINE_ID, parameters) is None:
                not_found(write.caller)
            raise TaskChanged()
        entomb(within, [*subtasks, removed])


def empty_trash(caller: Caller) -> int:
    """Purge every task in the caller's trash; how many."""
    with change(caller.space_id) as within:
        removed = db.session.execute(EMPTY_TRASH, caller.parameters).all()
        if not removed:
            load_account(caller)  # nothing: TokenNotCurrent if the token is why
        entomb(within, removed)
    return len(removed)


def purge_expired_trash(within: Change, since: datetime) -> int:
    """Purge a user's tasks deleted before `since` (maintenance: flask todo purge)."""
    parameters = {OWNER: within.user_id, KEPT_SINCE: since}
    removed = db.session.execute(EXPIRED_TRASH, parameters).all()
    entomb(within, removed)
    return len(removed)


def users_with_trash_before(since: datetime) -> list[uuid.UUID]:
    """Users whose trash holds tasks deleted before `since` (maintenance, across users)."""
    expired = select(tasks.c.user_id).where(tasks.c.deleted_at < since).distinct()
    return list(db.session.scalars(expired))
