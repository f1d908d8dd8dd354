"""A list's trash: trashing or restoring a list takes its tasks along in one more statement,
under the same change number (the tasks trashed with it share its deleted_at, by which its
restore knows them); a purge deletes the list and its tasks for good and leaves tombstones
for the feed; expired lists are purged by `flask todo purge`."""

import uuid
from datetime import datetime
from functools import cache

from sqlalchemy import Row, bindparam, delete, insert, select, true, update

from ..accounts.tokens import OWNER, Caller
from ..columns import UTCDateTime, utcnow
from ..extensions import db
from ..sharing import endings
from ..tasks import trash as task_trash
from ..tasks.changes import PENDING, Change, change, stamped
from ..tasks.models import tasks
from .models import lists, purged_lists
from .store import (
    KEPT_SINCE,
    LIST_ID,
    LOCK_LIST,
    NOW,
    OF_LIST,
    OWNER_ID,
    PURGE_LIST,
    PURGE_TASKS,
    TOMBSTONE,
    WAS_DELETED_AT,
    ListGone,
    listed,
    locked,
    now,
    read_list,
    write,
)


@cache
def cascade_shape(dialect: str, restoring: bool):
    """The one statement that trashes a list's live tasks with it, or restores those trashed
    with it (their deleted_at is the list's), numbered with the change."""
    if restoring:
        values, which = (
            {"deleted_at": None},
            tasks.c.deleted_at == bindparam(WAS_DELETED_AT, type_=UTCDateTime),
        )
    else:
        values, which = {"deleted_at": now}, tasks.c.deleted_at.is_(None)
    values = stamped(values, true(), dialect, True)
    return update(tasks).where(*OF_LIST, which).values(**values)


def trash_list(caller: Caller, list_id: uuid.UUID, versions) -> None:
    """Move a live list, and its live tasks, to the trash: one change."""
    with change(caller.space_id, of_lists=True):
        locked(caller, list_id, versions)
        stamp = utcnow()
        write(caller, list_id, {"deleted_at": stamp})
        parameters = {OWNER: caller.space_id, LIST_ID: list_id, NOW: stamp}
        db.session.execute(cascade_shape(db.engine.dialect.name, False), parameters)


def restore_list(caller: Caller, list_id: uuid.UUID, versions, since: datetime) -> Row:
    """Bring a list back from a trash that keeps what was deleted `since`, with the tasks
    trashed with it (not those trashed before); a live list comes back as it is. ListGone if
    it was purged or expired."""
    with change(caller.space_id, of_lists=True):
        current = db.session.execute(LOCK_LIST, listed(caller, list_id)).first()
        if current is None and db.session.scalar(select(TOMBSTONE), listed(caller, list_id)):
            raise ListGone()
        current = locked(caller, list_id, versions, live=False)
        if current.deleted_at is None:
            return read_list(caller, list_id)
        if current.deleted_at < since:
            raise ListGone()
        stamp = utcnow()
        write(caller, list_id, {"deleted_at": None}, trashed=True)
        cascade = {OWNER: caller.space_id, LIST_ID: list_id, WAS_DELETED_AT: current.deleted_at}
        db.session.execute(cascade_shape(db.engine.dialect.name, True), {**cascade, NOW: stamp})
        return read_list(caller, list_id)


def purge_list(caller: Caller, list_id: uuid.UUID, versions) -> None:
    """Delete a list (live or trashed) and every task in it for good; their tombstones stay
    for the feed."""
    with change(caller.space_id, of_lists=True) as within:
        current = locked(caller, list_id, versions, live=False)
        endings.lists_gone(caller.space_id, [list_id])
        removed = db.session.execute(PURGE_TASKS, {OWNER: caller.space_id, LIST_ID: list_id})
        task_trash.entomb(within, removed.all())
        db.session.execute(PURGE_LIST, {OWNER: caller.space_id, LIST_ID: list_id})
        entomb(within, [(list_id, current.deleted_at)])


def entomb(within: Change, removed: list[tuple[uuid.UUID, datetime | None]]) -> None:
    """Record lists just deleted for good, for the feed; numbered with the change."""
    purged_at = utcnow()
    if removed:
        db.session.execute(
            insert(purged_lists),
            [
                {
                    "user_id": within.user_id,
                    "id": list_id,
                    "change_number": PENDING,
                    "deleted_at": deleted_at or purged_at,
                    "purged_at": purged_at,
                }
                for list_id, deleted_at in removed
            ],
        )


EXPIRED = (
    lists.c.user_id == OWNER_ID,
    lists.c.deleted_at < bindparam(KEPT_SINCE, type_=UTCDateTime),
)
# Tasks left in an expired list (restored on their own after it was trashed) go with it.
TASKS_OF_EXPIRED_LISTS = (
    delete(tasks)
    .where(tasks.c.user_id == OWNER_ID, tasks.c.list_id.in_(select(lists.c.id).where(*EXPIRED)))
    .returning(*task_trash.TOMBSTONED)
)
EXPIRED_LISTS = delete(lists).where(*EXPIRED).returning(lists.c.id, lists.c.deleted_at)
LOCK_EXPIRED_LISTS = select(lists.c.id).where(*EXPIRED).with_for_update(key_share=True)


def users_with_lists_before(since: datetime) -> list[uuid.UUID]:
    """Users whose trash holds lists deleted before `since` (maintenance, across users)."""
    return list(
        db.session.scalars(select(lists.c.user_id).where(lists.c.deleted_at < since).distinct())
    )


def purge_expired_lists(within: Change, since: datetime) -> tuple[int, int]:
    """Purge a user's lists deleted before `since`, and what tasks are still in them
    (maintenance: flask todo purge); how many lists, and how many tasks."""
    parameters = {OWNER: within.user_id, KEPT_SINCE: since}
    endings.lists_gone(within.user_id, list(db.session.scalars(LOCK_EXPIRED_LISTS, parameters)))
    left = db.session.execute(TASKS_OF_EXPIRED_LISTS, parameters).all()
    task_trash.entomb(within, left)
    removed = db.session.execute(EXPIRED_LISTS, parameters).all()
    entomb(within, [(row.id, row.deleted_at) for row in removed])
    return len(removed), len(left)
