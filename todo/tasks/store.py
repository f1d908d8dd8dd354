"""The statements that read and change one user's tasks. Each is a single round trip that
carries every check: the owner, the caller's token still being current, and If-Match.

They take the caller (todo/accounts/tokens.py) and the If-Match versions explicitly, raise domain
errors (TaskNotFound, TaskChanged, TokenNotCurrent) that the factory turns into problems, and
know nothing of HTTP. They are Core statements over the tasks table, built once where their
shape allows, and give back rows (named tuples with the task's columns), not ORM objects: no
task is ever changed through the session, so the identity map and change tracking would be
work for nothing.

flask-smorest's `@blp.etag` is not used: it compares ETags in Python after reading the row,
where two writers holding the same ETag could both pass; here If-Match is a condition of the
UPDATE itself (`guarded`).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import NoReturn

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
from sqlalchemy.exc import IntegrityError

from .. import idempotency
from ..accounts.models import users
from ..accounts.store import load_account
from ..accounts.tokens import (
    CALLER_ROW_IS_CURRENT,
    OWNER,
    TOKEN_IS_CURRENT,
    USER_GONE,
    Caller,
    TokenNotCurrent,
)
from ..columns import UTCDateTime, utcnow
from ..database import transaction
from ..extensions import db
from ..idempotency import Answer
from .listing import count_statement, page_statement
from .models import TASK_ROW, tasks

# The bind parameters of the task statements (beside the caller's); a new value of a column
# is `new_<column>`.
TASK_ID, VERSIONS, NOW = "task_id", "versions", "now"
TITLE, DESCRIPTION, COMPLETED = "title", "description", "completed"


def new_value(column: str) -> str:
    return f"new_{column}"


class TaskNotFound(Exception):
    def __init__(self):
        super().__init__("Task not found")  # the spec's wording, which its clients may compare


class TaskChanged(Exception):
    def __init__(self):
        super().__init__("The task has changed since the ETag in If-Match.")


def owned(statement):
    """Narrow a statement to one task of the caller while the token is current, so another
    user's task is simply not found."""
    return statement.where(
        tasks.c.user_id == bindparam(OWNER, type_=Uuid),
        tasks.c.id == bindparam(TASK_ID, type_=Uuid),
        TOKEN_IS_CURRENT,
    )


def ownership(caller: Caller, task_id: uuid.UUID) -> dict:
    return {**caller.parameters, TASK_ID: task_id}


# Built once; the reads every single-task route may run, and the insert.
SELECT_TASK = owned(select(*TASK_ROW))
SELECT_TASK_ID = owned(select(tasks.c.id))
now = bindparam(NOW, type_=UTCDateTime)  # created_at and updated_at: the same instant
INSERT_TASK = (
    insert(tasks)
    .from_select(
        ["id", "user_id", "title", "description", "completed", "created_at", "updated_at"],
        # FROM the caller's users row: on Citus the insert then goes to that user's shard.
        select(
            bindparam(TASK_ID, type_=Uuid),
            users.c.id,
            bindparam(TITLE, type_=String),
            bindparam(DESCRIPTION, type_=Text),
            bindparam(COMPLETED, type_=Boolean),
            now,
            now,
        )
        .select_from(users)
        .where(CALLER_ROW_IS_CURRENT),
    )
    .returning(*TASK_ROW)
)


def not_found(caller: Caller) -> NoReturn:
    """What a statement that found no task means: TokenNotCurrent if the token is why, else
    TaskNotFound."""
    load_account(caller)
    raise TaskNotFound()


def read_task(caller: Caller, task_id: uuid.UUID) -> Row:
    task = db.session.execute(SELECT_TASK, ownership(caller, task_id)).first()
    return task if task is not None else not_found(caller)


def guarded_or_fail(statement, caller: Caller, task_id, versions, values=None) -> Row:
    """Run a write narrowed by If-Match (a shape from `guarded`, for these `versions`); on no
    row, tell a stale ETag (TaskChanged) from no task and from a token no longer current."""
    parameters = {**ownership(caller, task_id), **(values or {})}
    parameters.update({VERSIONS: versions, NOW: utcnow()})  # what a shape may ask for
    result = db.session.execute(statement, parameters).first()
    if result is None:
        if db.session.scalar(SELECT_TASK_ID, ownership(caller, task_id)) is not None:
            raise TaskChanged()
        not_found(caller)
    return result


def guarded(statement, by_version: bool):
    """`statement` for one owned task, and if If-Match names versions, one of them."""
    statement = owned(statement)
    if by_version:
        statement = statement.where(tasks.c.version.in_(bindparam(VERSIONS, expanding=True)))
    return statement


@cache
def update_shape(dialect: str, columns: tuple[str, ...], flip: bool, by_version: bool):
    """UPDATE … RETURNING of these columns (new values as parameters `new_<column>`), or
    flipping `completed`. `version` and `updated_at` move only if a value really changes.
    Built once per shape; only the parameters change per request.

    On PostgreSQL, `updated_at` is stamped by a row trigger when the version moves (migration
    0006): clock_timestamp() read after the row's lock, so a later change never carries an
    earlier time, and no volatile function in the UPDATE (refused on Citus). SQLite has no
    such clock: the app's is read just before the write, so two writers racing on one task
    there can still stamp out of order."""
    values = {name: bindparam(new_value(name), type_=tasks.c[name].type) for name in columns}
    if flip:
        values["completed"] = not_(tasks.c.completed)
    changed = or_(false(), *(tasks.c[name].is_distinct_from(v) for name, v in values.items()))
    values["version"] = case((changed, tasks.c.version + 1), else_=tasks.c.version)
    if dialect != "postgresql":
        values["updated_at"] = case((changed, now), else_=tasks.c.updated_at)
    return guarded(update(tasks).values(**values), by_version).returning(*TASK_ROW)


@cache
def delete_shape(by_version: bool):
    return guarded(delete(tasks), by_version).returning(tasks.c.id)


def write_task(
    caller: Caller, task_id: uuid.UUID, values: dict, versions, flip: bool = False
) -> Row:
    """One UPDATE of the fields in `values`, or flipping `completed` if `flip`; `versions`:
    what If-Match allows (None: any)."""
    columns = tuple(sorted(values))
    shape = update_shape(db.engine.dialect.name, columns, flip, versions is not None)
    new_values = {new_value(name): values[name] for name in columns}
    return guarded_or_fail(shape, caller, task_id, versions, new_values)


def remove_task(caller: Caller, task_id: uuid.UUID, versions) -> None:
    """One DELETE, guarded by If-Match like every write."""
    guarded_or_fail(delete_shape(versions is not None), caller, task_id, versions)


def add_task(caller: Caller, fields: dict) -> Row:
    """One INSERT … SELECT, which inserts nothing unless the token is current."""
    parameters = {
        **caller.parameters,
        COMPLETED: False,
        **fields,
        TASK_ID: uuid.uuid4(),
        NOW: utcnow(),
    }
    try:
        task = db.session.execute(INSERT_TASK, parameters).first()
    except IntegrityError:  # the only constraint a valid task can break: its user is gone
        raise TokenNotCurrent(USER_GONE) from None
    return task if task is not None else not_found(caller)  # not_found() raises 401 here


def add_task_once(
    caller: Caller, key: str, request_hash: str, fields: dict, answer_for: Callable[[Row], Answer]
) -> Answer:
    """Create a task under an Idempotency-Key: the first answer (`answer_for` the new task) is
    stored with the task, in one transaction; a retry gets the stored answer back.

    Concurrent first tries race to INSERT the (user_id, key) primary key: the loser's INSERT
    waits for the winner's commit, conflicts, rolls back its whole transaction (its task
    included) and replays the winner's answer."""
    load_account(caller)  # a stored answer is replayed only to a token that is still current
    try:
        with transaction():
            idempotency.purge_expired(caller.user_id)
            if replay := idempotency.stored_answer(caller.user_id, key, request_hash):
                return replay
            answer = answer_for(add_task(caller, fields))
            idempotency.remember(caller.user_id, key, request_hash, answer)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did. With no
        # answer stored, what conflicted was the user, deleted meanwhile.
        if replay := idempotency.stored_answer(caller.user_id, key, request_hash):
            return replay
        raise TokenNotCurrent(USER_GONE) from None
    return answer


@dataclass(frozen=True, slots=True)
class Page:
    tasks: list[Row]
    total: int
    more: bool  # another page follows the last of these tasks


def list_page(caller: Caller, query: dict) -> Page:
    """A page of the caller's tasks that match the query, and how many match in all."""
    rows = db.session.execute(*page_statement(caller, query)).all()
    if not rows:
        load_account(caller)  # nothing found: TokenNotCurrent if the token is why
    if len(rows) <= query["limit"] and "cursor" not in query:
        return Page(rows, len(rows), more=False)  # the whole list: nothing to count
    total = db.session.scalar(*count_statement(caller, query))
    if total is None:  # the counters' row: the account was deleted meanwhile
        raise TokenNotCurrent(USER_GONE)
    return Page(rows[: query["limit"]], total, more=len(rows) > query["limit"])
