"""What a recurring task's completions leave behind, written by the store beside the revision
(tasks/revision.py decides; this writes): a roll-over's entry in the completion history, with
the parent's completed subtasks opened again for the next occurrence; an undo's entry
removed. The history of plain completions is the triggers' (migration 0009)."""

import uuid
from functools import cache

from sqlalchemy import Row, Uuid, bindparam, delete, insert, select, true, update

from ..accounts.tokens import OWNER, Caller
from ..columns import utcnow
from ..extensions import db
from .changes import NOW, Change, stamped
from .models import task_completions, tasks
from .revision import Revision
from .rows import LIVE, SUBTASKS_OF_TASK, TASK_ID, ownership, shape_for

# The task's latest completions, newest first: what an undo of a roll-over restores.
LATEST_COMPLETIONS = (
    select(task_completions.c.id, task_completions.c.occurrence, task_completions.c.completed_at)
    .where(
        task_completions.c.user_id == bindparam(OWNER, type_=Uuid),
        task_completions.c.task_id == bindparam(TASK_ID, type_=Uuid),
    )
    .order_by(task_completions.c.completed_at.desc(), task_completions.c.id.desc())
    .limit(2)
)
# The completion history of a parent's completed live subtasks, oldest first.
SUBTASK_COMPLETIONS = (
    select(task_completions)
    .where(
        task_completions.c.user_id == bindparam(OWNER, type_=Uuid),
        task_completions.c.task_id.in_(
            select(tasks.c.id).where(*SUBTASKS_OF_TASK, tasks.c.completed, LIVE)
        ),
    )
    .order_by(task_completions.c.completed_at, task_completions.c.id)
)


def latest_completions(caller: Caller, task_id: uuid.UUID) -> list[Row]:
    return db.session.execute(LATEST_COMPLETIONS, ownership(caller, task_id)).all()


def keep(caller: Caller, current: Row, revision: Revision, within: Change | None) -> None:
    """The history of a revision of the stored task `current`: a roll-over recorded (the
    title it is written with), the subtasks reopened for the next occurrence; an undo's
    entry removed. In this order, before the task's own UPDATE."""
    task_id = uuid.UUID(current.id)
    if revision.record is not None:
        db.session.execute(
            insert(task_completions).values(
                user_id=caller.space_id,
                id=uuid.uuid4(),
                task_id=task_id,
                title=revision.columns.get("title", current.title),
                completed_at=revision.recorded_at,
                occurrence=revision.record,
                completed_by=caller.actor_id,
            )
        )
        if current.subtasks_completed:
            reopen_subtasks(caller, task_id, within)
    if revision.undo is not None:
        db.session.execute(
            delete(task_completions).where(
                task_completions.c.user_id == caller.space_id,
                task_completions.c.id == revision.undo.id,
            )
        )


@cache
def reopen_shape(dialect: str, pending: bool):
    """A parent's completed live subtasks open again, in one statement."""
    values = {"completed": False, "completed_at": None, "completed_by": None}
    values = stamped(values, true(), dialect, pending)
    return update(tasks).where(*SUBTASKS_OF_TASK, tasks.c.completed, LIVE).values(**values)


def reopen_subtasks(caller: Caller, task_id: uuid.UUID, within: Change | None) -> None:
    """A recurring parent rolled over: its completed subtasks open again for the next
    occurrence. Their history stays: a reopen's trigger removes a task's latest completion
    (migration 0009), which is put back."""
    parameters = {OWNER: caller.space_id, TASK_ID: task_id}
    latest = {}  # each subtask's latest completion: the entries come oldest first
    for entry in db.session.execute(SUBTASK_COMPLETIONS, parameters).mappings():
        latest[entry["task_id"]] = dict(entry)
    db.session.execute(shape_for(reopen_shape, within), {**parameters, NOW: utcnow()})
    if latest:
        db.session.execute(insert(task_completions), list(latest.values()))
