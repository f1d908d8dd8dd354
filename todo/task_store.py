"""The statements that read and change one user's tasks. Each is a single round trip that
carries every check: the owner, the token still being current, and If-Match.

They are Core statements over the tasks table, built once where their shape allows, and give
back rows (named tuples with the task's columns), not ORM objects: no task is ever changed
through the session, so the identity map and change tracking would be work for nothing.
"""

import uuid
from functools import cache

from flask import g
from flask_smorest import abort
from sqlalchemy import (
    Boolean,
    Row,
    String,
    Text,
    Uuid,
    bindparam,
    case,
    delete,
    false,
    insert,
    not_,
    or_,
    select,
    update,
)

from .etags import if_match_versions
from .extensions import db
from .models import TASK_ROW, UTCDateTime, change_time, tasks, utcnow
from .tokens import TOKEN_IS_CURRENT, current_account

TASK_NOT_FOUND = "Task not found"  # the spec's wording, which its clients may compare


def owned(statement):
    """Narrow a statement to one task of the token's user while the token is current
    (parameters: `ownership(task_id)`), so another user's task is simply not found."""
    return statement.where(
        tasks.c.user_id == bindparam("owner", type_=Uuid),
        tasks.c.id == bindparam("task_id", type_=Uuid),
        TOKEN_IS_CURRENT,
    )


def ownership(task_id: uuid.UUID) -> dict:
    return {**g.token, "task_id": task_id}


# Built once; the reads every single-task route may run, and the insert.
SELECT_TASK = owned(select(*TASK_ROW))
SELECT_TASK_ID = owned(select(tasks.c.id))
now = bindparam("now", type_=UTCDateTime)  # created_at and updated_at: the same instant
INSERT_TASK = (
    insert(tasks)
    .from_select(
        ["id", "user_id", "title", "description", "completed", "created_at", "updated_at"],
        select(
            bindparam("task_id", type_=Uuid),
            bindparam("owner", type_=Uuid),
            bindparam("title", type_=String),
            bindparam("description", type_=Text),
            bindparam("completed", type_=Boolean),
            now,
            now,
        ).where(TOKEN_IS_CURRENT),
    )
    .returning(*TASK_ROW)
)


def not_found():
    """What a statement that found no task answers: 401 if the token is the reason, else 404."""
    current_account()
    abort(404, message=TASK_NOT_FOUND)


def one_or_404(task_id: uuid.UUID) -> Row:
    task = db.session.execute(SELECT_TASK, ownership(task_id)).first()
    return task if task is not None else not_found()


def guarded_or_fail(statement, task_id: uuid.UUID, versions, values: dict | None = None) -> Row:
    """Run a write narrowed by If-Match (a shape from `guarded`, for these `versions`); on no
    row, tell a stale ETag (412) from no task (404) and from a token no longer current (401)."""
    parameters = {**ownership(task_id), **(values or {})}
    parameters.update(versions=versions, now=utcnow())  # what a shape may ask for
    result = db.session.execute(statement, parameters).first()
    if result is None:
        if db.session.scalar(SELECT_TASK_ID, ownership(task_id)) is not None:
            abort(412, message="The task has changed since the ETag in If-Match.")
        not_found()
    return result


def guarded(statement, by_version: bool):
    """`statement` for one owned task, and if If-Match names versions, one of them."""
    statement = owned(statement)
    if by_version:
        statement = statement.where(tasks.c.version.in_(bindparam("versions", expanding=True)))
    return statement


@cache
def update_shape(dialect: str, columns: tuple[str, ...], flip: bool, by_version: bool):
    """UPDATE … RETURNING of these columns (new values as parameters `new_<column>`), or
    flipping `completed`. `version` and `updated_at` move only if a value really changes.
    Built once per shape; only the parameters change per request."""
    values = {name: bindparam(f"new_{name}", type_=tasks.c[name].type) for name in columns}
    if flip:
        values["completed"] = not_(tasks.c.completed)
    changed = or_(false(), *(tasks.c[name].is_distinct_from(v) for name, v in values.items()))
    statement = update(tasks).values(
        **values,
        version=case((changed, tasks.c.version + 1), else_=tasks.c.version),
        updated_at=case((changed, change_time(dialect)), else_=tasks.c.updated_at),
    )
    return guarded(statement, by_version).returning(*TASK_ROW)


@cache
def delete_shape(by_version: bool):
    return guarded(delete(tasks), by_version).returning(tasks.c.id)


def write(task_id: uuid.UUID, values: dict, flip: bool = False) -> Row:
    """One UPDATE of the fields in `values`, or flipping `completed` if `flip`."""
    columns, versions = tuple(sorted(values)), if_match_versions()
    shape = update_shape(db.engine.dialect.name, columns, flip, versions is not None)
    new_values = {f"new_{name}": values[name] for name in columns}
    return guarded_or_fail(shape, task_id, versions, new_values)


def remove(task_id: uuid.UUID) -> None:
    """One DELETE, guarded by If-Match like every write."""
    versions = if_match_versions()
    guarded_or_fail(delete_shape(versions is not None), task_id, versions)


def add_task(fields: dict) -> Row:
    """One INSERT … SELECT, which inserts nothing unless the token is current."""
    parameters = {**g.token, "completed": False, **fields, "task_id": uuid.uuid4(), "now": utcnow()}
    task = db.session.execute(INSERT_TASK, parameters).first()
    return task if task is not None else not_found()  # not_found() answers 401 here
