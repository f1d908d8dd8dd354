"""The statements that read and change one user's tasks: ownership is in every one of them,
and If-Match is a condition of the write itself."""

import uuid

from flask_jwt_extended import current_user
from flask_smorest import abort
from sqlalchemy import Uuid, bindparam, case, delete, false, or_, select, update

from .etags import if_match_condition
from .extensions import db
from .models import Task, change_time, utcnow

TASK_NOT_FOUND = "Task not found"  # the spec's wording, which its clients may compare


def owned(statement):
    """Narrow a statement to one task of one owner (parameters: `ownership(task_id)`), so
    another user's task is simply not found."""
    return statement.where(
        Task.user_id == bindparam("owner", type_=Uuid), Task.id == bindparam("task_id", type_=Uuid)
    )


def ownership(task_id: uuid.UUID) -> dict:
    return {"owner": current_user.id, "task_id": task_id}


# Built once; the reads every single-task route may run.
SELECT_TASK = owned(select(Task))
SELECT_TASK_ID = owned(select(Task.id))


def one_or_404(task_id: uuid.UUID) -> Task:
    task = db.session.scalar(SELECT_TASK, ownership(task_id))
    if task is None:
        abort(404, message=TASK_NOT_FOUND)
    return task


def guarded_or_fail(statement, task_id: uuid.UUID):
    """Run a write narrowed by If-Match; on no row, tell a stale ETag (412) from no task (404)."""
    result = db.session.scalar(statement.where(if_match_condition()), ownership(task_id))
    if result is None:
        if db.session.scalar(SELECT_TASK_ID, ownership(task_id)) is not None:
            abort(412, message="The task has changed since the ETag in If-Match.")
        abort(404, message=TASK_NOT_FOUND)
    return result


def write(task_id: uuid.UUID, values: dict):
    """One UPDATE … RETURNING. `version` and `updated_at` move only if a value really changes."""
    changed = or_(false(), *(getattr(Task, name).is_distinct_from(v) for name, v in values.items()))
    statement = (
        owned(update(Task))
        .values(
            **values,
            version=case((changed, Task.version + 1), else_=Task.version),
            updated_at=case((changed, change_time()), else_=Task.updated_at),
        )
        .returning(Task)
    )
    task = guarded_or_fail(statement, task_id)
    db.session.commit()
    return task


def remove(task_id: uuid.UUID) -> None:
    """One DELETE, guarded by If-Match like every write."""
    guarded_or_fail(owned(delete(Task)).returning(Task.id), task_id)
    db.session.commit()


def add_task(fields: dict) -> Task:
    now = utcnow()
    task = Task(user_id=current_user.id, created_at=now, updated_at=now, **fields)
    db.session.add(task)
    db.session.flush()
    return task
