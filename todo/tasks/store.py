"""The statements that read and change one user's tasks. Each write is a single round trip
where it can be, and carries every check: the owner, the caller's token still being current,
and If-Match; its change number is taken by the row's trigger, or at the end of the change
it is part of (todo/tasks/changes.py).

They take the caller (todo/accounts/tokens.py), the If-Match versions and, inside a batch, the
change they are part of, explicitly; raise domain errors (TaskNotFound, TaskChanged, TaskGone,
IdConflict, TokenNotCurrent) that the factory turns into problems; and know nothing of HTTP.
They are Core statements over the tasks table, built once per shape, and give back rows
(named tuples with the task's columns), not ORM objects: no task is ever changed through the
session, so the identity map and change tracking would be work for nothing.

flask-smorest's `@blp.etag` is not used: it compares ETags in Python after reading the row,
where two writers holding the same ETag could both pass; here If-Match is a condition of the
UPDATE itself (`guarded`).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import NoReturn

from sqlalchemy import (
    Boolean,
    Row,
    String,
    Text,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    column,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
    update,
    values,
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
from ..database import dialect_insert, first_row, first_value, statement_rows, transaction
from ..extensions import db
from ..idempotency import Answer
from ..labels import store as label_store
from . import due, ordering, positions, reminders, revision, structure
from .changes import NOW, PENDING, Change, change, now, stamped
from .listing import count_statement, page_statement, version_statement
from .models import ANSWER_ROW, TASK_ROW, purged_tasks, task_completions, tasks

# The bind parameters of the task statements (beside the caller's); a new value of a column
# is `new_<column>`.
TASK_ID, VERSIONS, KEPT_SINCE = "task_id", "versions", "kept_since"
TITLE, DESCRIPTION, COMPLETED = "title", "description", "completed"
# Columns a new task may be given, and what they are if not.
OPTIONAL_VALUES = {
    **due.NO_DUE,
    **revision.NO_RECURRENCE,
    "priority": 0,
    "reminders": [],
    "list_id": None,
    "parent_id": None,
    "labels": [],
}
OPTIONAL_COLUMNS = tuple(OPTIONAL_VALUES)


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


def mine(statement):
    """Narrow a statement to one task of the caller, so another user's task is not found."""
    return statement.where(
        tasks.c.user_id == bindparam(OWNER, type_=Uuid),
        tasks.c.id == bindparam(TASK_ID, type_=Uuid),
    )


def owned(statement):
    """One live task of the caller while the token is current."""
    return mine(statement).where(LIVE, TOKEN_IS_CURRENT)


# The caller's tasks whose parent is TASK_ID, live or trashed.
SUBTASKS_OF_TASK = (
    tasks.c.user_id == bindparam(OWNER, type_=Uuid),
    tasks.c.parent_id == bindparam(TASK_ID, type_=Uuid),
)


def ownership(caller: Caller, task_id: uuid.UUID) -> dict:
    return {**caller.parameters, TASK_ID: task_id}


# Built once; the reads every single-task route may run.
SELECT_TASK = owned(select(*TASK_ROW))
READ_TASK = owned(select(*ANSWER_ROW))  # for the answer alone (models.ANSWER_ROW)
SELECT_TASK_VERSION = owned(select(tasks.c.version))
SELECT_TASK_LOCKED = SELECT_TASK.with_for_update(of=tasks)  # no-op on SQLite: BEGIN IMMEDIATE
SELECT_TASK_STATE = owned(select(tasks.c.version, tasks.c.recurrence_rule))
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
USER_ZONE = select(users.c.timezone).where(users.c.id == bindparam(OWNER, type_=Uuid))
# The manual order's scope: a user's live tasks of one list (null: the Inbox) and one parent
# (null: the top-level tasks).
TASK_SCOPE = positions.Scope(tasks, LIVE, ("list_id", "parent_id"))
APPENDED = "appended"  # the bind parameter of a key's place in its change
RESPACED_PAGE = 1000  # tasks given new keys by one statement of a re-spacing
# Any task of the caller, live or trashed, and its tombstone: to tell 404 from 410.
SELECT_ANY_TASK = mine(select(*TASK_ROW)).where(TOKEN_IS_CURRENT)
SELECT_MINE_ID = mine(select(tasks.c.id))
TOMBSTONE = exists().where(
    purged_tasks.c.user_id == bindparam(OWNER, type_=Uuid),
    purged_tasks.c.id == bindparam(TASK_ID, type_=Uuid),
)


@cache
def insert_shape(dialect: str, pending: bool, chosen: bool, placed: bool = False):
    """INSERT … SELECT of one task FROM the caller's users row while the token is current (on
    Citus the insert then goes to that user's shard). Its change number is taken by the row's
    trigger, or PENDING inside a change. A client-chosen id inserts nothing if it is taken, or
    was ever purged (a deleted id is never resurrected). A `placed` task's position is a
    parameter; otherwise it goes to the end (`appended_position`)."""
    completed = bindparam(COMPLETED, type_=Boolean)
    row = select(
        bindparam(TASK_ID, type_=Uuid),
        users.c.id,
        bindparam(TITLE, type_=String),
        bindparam(DESCRIPTION, type_=Text),
        completed,
        now,
        now,
        case((completed, now), else_=None),
        *(bindparam(name, type_=tasks.c[name].type) for name in OPTIONAL_COLUMNS),
        (
            bindparam("position", type_=tasks.c.position.type)
            if placed
            else appended_position(users.c.change_number + 1, pending)
        ),
        literal_column(str(PENDING if pending else 0)),
        literal_column("1"),
    ).where(CALLER_ROW_IS_CURRENT)
    columns = [
        *("id", "user_id", "title", "description", "completed", "created_at", "updated_at"),
        *("completed_at", *OPTIONAL_COLUMNS, "position"),
    ]
    if not chosen:
        statement = insert(tasks)
    else:
        row = row.where(~TOMBSTONE)
        statement = dialect_insert(tasks, dialect)
    statement = statement.from_select(
        [*columns, "change_number", "version"], row, include_defaults=False
    )
    if chosen:
        statement = statement.on_conflict_do_nothing()
    return statement.returning(*TASK_ROW)


def appended_position(number, pending: bool):
    """The key of a task added at the end, in the INSERT itself: the user's next change
    number as a fractional index's integer part of fixed width (`y` and 25 decimal digits,
    valid base-62 digits), so it sorts after every key made before it: appended keys follow
    the counter, and a move to the end takes the key after the last one and a number of its
    own. The tasks one change adds (a batch's, sharing its number) follow it with their
    place in the change (APPENDED parameter: ordering.appended_fraction)."""
    digits = ordering.APPENDED_DIGITS
    padded = literal("0" * digits) + cast(number, String)
    key = literal(ordering.APPENDED_HEAD) + func.substr(padded, func.length(padded) - digits + 1)
    return key + bindparam(APPENDED, type_=String) if pending else key


def not_found(caller: Caller) -> NoReturn:
    """What a statement that found no task means: TokenNotCurrent if the token is why, else
    TaskNotFound."""
    load_account(caller)
    raise TaskNotFound()


def read_task(caller: Caller, task_id: uuid.UUID) -> Row:
    task = first_row(READ_TASK, ownership(caller, task_id))
    return task if task is not None else not_found(caller)


# A statement reads the tasks as they were when it started: a change committed meanwhile (a
# restore, a delete) can hide the task from it (PostgreSQL skips a row whose version as of its
# start fails the WHERE). Seeing the task there after all, the write runs again; another write
# landing in that same window every time, this many times over, would be a 412.
RACE_RETRIES = 5


class Recurring(Exception):
    """A write that may complete the task found it recurring: it takes the locked path."""


def write_or_fail(shape, caller: Caller, task_id, versions, values, completes=False) -> Row:
    """Run a write of one live task (a shape from `guarded`, for these `versions`); on no row,
    tell a stale ETag (TaskChanged) from no task and from a token no longer current, or run it
    again if it raced a change it could not see. A write that `completes` a task is written
    for a task without recurrence only: Recurring if that is why no row was written."""
    parameters = {**ownership(caller, task_id), **values, VERSIONS: versions}
    for _ in range(RACE_RETRIES):
        result = first_row(shape, {**parameters, NOW: utcnow()})
        if result is not None:
            return result
        state = db.session.execute(SELECT_TASK_STATE, ownership(caller, task_id)).first()
        if state is None:
            not_found(caller)
        if versions is not None and state.version not in versions:
            raise TaskChanged()
        if completes and state.recurrence_rule is not None:
            raise Recurring()
    raise TaskChanged()


def guarded(statement, by_version: bool):
    """`statement` for one of the caller's tasks while the token is current, and if If-Match
    names versions, one of them."""
    statement = mine(statement).where(TOKEN_IS_CURRENT)
    if by_version:
        statement = statement.where(tasks.c.version.in_(bindparam(VERSIONS, expanding=True)))
    return statement


@cache
def update_shape(
    dialect: str,
    pending: bool,
    columns: tuple[str, ...],
    flip: bool,
    by_version: bool,
    plain: bool = True,
):
    """UPDATE … RETURNING of a live task's columns (new values as parameters
    `new_<column>`), or flipping `completed`. `version` (and so the change number) moves only
    if a value really changes. A `plain` write that sets `completed` is for a task without
    recurrence (completing a recurring one rolls it over: `write_locked`). Built once per
    shape; only the parameters change per request."""
    values = {name: bindparam(new_value(name), type_=tasks.c[name].type) for name in columns}
    if flip:
        values["completed"] = not_(tasks.c.completed)
    changed = or_(false(), *(tasks.c[name].is_distinct_from(v) for name, v in values.items()))
    if "completed" in values:
        done = values["completed"]
        values["completed_at"] = case(
            (tasks.c.completed == done, tasks.c.completed_at), (done, now), else_=None
        )
    statement = update(tasks).values(**stamped(values, changed, dialect, pending))
    if plain and "completed" in values:
        statement = statement.where(tasks.c.recurrence_rule.is_(None))
    return guarded(statement.where(LIVE), by_version).returning(*TASK_ROW)


@cache
def trash_shape(dialect: str, pending: bool, by_version: bool):
    """Move a live task to the trash, and its live subtasks with it, in one statement: they
    share its deleted_at, by which its restore knows them. A subtask goes if its parent is
    live (and at a version If-Match allows) or was just trashed by this statement (SQLite
    may visit the parent first)."""
    values = stamped({"deleted_at": now}, true(), dialect, pending)
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
        TOKEN_IS_CURRENT,
        or_(and_(*the_task), and_(tasks.c.parent_id == task_id, parent_going)),
    ).returning(tasks.c.id)


@cache
def restore_shape(dialect: str, pending: bool, by_version: bool):
    """Bring a task back from the trash (unless it expired there, or it is a subtask whose
    parent is in the trash) and, in the same statement, its subtasks trashed with it: those
    whose deleted_at is its own (read by a subquery, which sees the rows as the statement
    found them)."""
    values = stamped({"deleted_at": None}, true(), dialect, pending)
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
        TOKEN_IS_CURRENT,
        or_(and_(*the_task), and_(tasks.c.parent_id == task_id, tasks.c.deleted_at == was)),
    ).returning(*TASK_ROW)


@cache
def purge_shape(by_version: bool):
    """Delete a task, live or trashed, for good; what its tombstone needs."""
    return guarded(delete(tasks), by_version).returning(tasks.c.id, tasks.c.deleted_at)


# A task's subtasks, live or trashed: purged with it (first: they reference it).
PURGE_SUBTASKS = delete(tasks).where(*SUBTASKS_OF_TASK).returning(tasks.c.id, tasks.c.deleted_at)
EMPTY_TRASH = (
    delete(tasks)
    .where(
        tasks.c.user_id == bindparam(OWNER, type_=Uuid),
        tasks.c.deleted_at.is_not(None),
        TOKEN_IS_CURRENT,
    )
    .returning(tasks.c.id, tasks.c.deleted_at)
)
EXPIRED_TRASH = (
    delete(tasks)
    .where(
        tasks.c.user_id == bindparam(OWNER, type_=Uuid),
        tasks.c.deleted_at < bindparam(KEPT_SINCE, type_=UTCDateTime),
    )
    .returning(tasks.c.id, tasks.c.deleted_at)
)


def shape_for(shape, within: Change | None, *options):
    """A shape built per dialect, and whether it is written inside a change."""
    return shape(db.engine.dialect.name, within is not None, *options)


def write_task(
    caller: Caller,
    task_id: uuid.UUID,
    values: dict,
    versions,
    flip: bool = False,
    within: Change | None = None,
    occurrence: date | None = None,
) -> Row:
    """One UPDATE of the fields in `values`, or flipping `completed` if `flip`; `versions`:
    what If-Match allows (None: any). A write of the newer fields (a due date's merge, a
    recurrence, reminders), one guarded by an `occurrence`, and a completion of a recurring
    task read the task first (`write_locked`); so does a write of its list or parent, which
    checks structure.py's rules and takes the subtasks along. A write of its labels is a
    change (`write_labelled`)."""
    if "labels" in values:
        return write_labelled(caller, task_id, values, versions, flip, within, occurrence)
    return write_columns(caller, task_id, values, versions, flip, within, occurrence)


def write_labelled(caller, task_id, values, versions, flip, within, occurrence) -> Row:
    """A write of the task's labels (and whatever else `values` hold), in the change it is
    given or one of its own: the labels resolved first (their rows locked before the task's),
    the task written with their names, then linked to them (unless nothing was written: a
    completion replayed)."""
    if within is None:
        with change(caller.user_id) as within:
            return write_labelled(caller, task_id, values, versions, flip, within, occurrence)
    shown, label_ids = label_store.resolve(caller.user_id, values["labels"])
    values = {**values, "labels": shown}
    task = write_columns(caller, task_id, values, versions, flip, within, occurrence)
    if task.labels == shown:
        label_store.link(caller.user_id, task_id, label_ids)
    return task


def write_columns(caller, task_id, values, versions, flip, within, occurrence) -> Row:
    """`write_task` of the columns `values` name."""
    if structure.FIELDS & values.keys():
        if within is None:
            with transaction():
                return write_placed(caller, task_id, values, versions, flip, None, occurrence)
        return write_placed(caller, task_id, values, versions, flip, within, occurrence)
    return write_either(write_locked, caller, task_id, values, versions, flip, within, occurrence)


def write_either(locked, caller, task_id, values, versions, flip, within, occurrence) -> Row:
    """A plain UPDATE, or `locked` (write_locked; write_revised inside a transaction) for a
    write that depends on the task as stored."""
    if occurrence is not None or revision.MERGED_FIELDS & values.keys():
        return locked(caller, task_id, values, versions, flip, within, occurrence)
    try:
        return write_plain(caller, task_id, values, versions, flip, within)
    except Recurring:
        return locked(caller, task_id, values, versions, flip, within, occurrence)


def write_placed(caller, task_id, values, versions, flip, within, occurrence) -> Row:
    """A write of a task's list or parent (and whatever else `values` hold), in the
    transaction or change it is given: the task locked, the rules checked, the subtasks of a
    task that changes lists moved with it."""
    current = db.session.execute(SELECT_TASK_LOCKED, ownership(caller, task_id)).first()
    if current is None:
        not_found(caller)
    if versions is not None and current.version not in versions:
        raise TaskChanged()
    values = {**values, **structure.placed(caller, task_id, where(current), values)}
    versions = (current.version,)
    task = write_either(write_revised, caller, task_id, values, versions, flip, within, occurrence)
    take_subtasks_along(caller, task, within)
    return task


def write_plain(caller, task_id, values, versions, flip, within, plain=True) -> Row:
    columns = tuple(sorted(values))
    shape = shape_for(update_shape, within, columns, flip, versions is not None, plain)
    new_values = {new_value(name): values[name] for name in columns}
    completes = plain and (flip or "completed" in values)
    return write_or_fail(shape, caller, task_id, versions, new_values, completes)


def write_locked(caller, task_id, values, versions, flip, within, occurrence) -> Row:
    """A write that depends on the task as stored, in one transaction: the task is read and
    locked (the lock every write of it takes first), its revision computed
    (tasks/revision.py) and written, with the completion history it keeps."""
    if within is None:
        with transaction():
            return write_revised(caller, task_id, values, versions, flip, None, occurrence)
    return write_revised(caller, task_id, values, versions, flip, within, occurrence)


def write_revised(caller, task_id, values, versions, flip, within, occurrence) -> Row:
    """`write_locked`'s work, inside its transaction: with the row locked, the version read
    is the one the write finds."""
    current = db.session.execute(SELECT_TASK_LOCKED, ownership(caller, task_id)).first()
    if current is None:
        not_found(caller)
    if versions is not None and current.version not in versions:
        raise TaskChanged()
    now = utcnow()
    zone_name = db.session.scalar(USER_ZONE, {OWNER: caller.user_id})
    change_of = revision.revise(
        current._mapping,
        values,
        flip,
        occurrence,
        zone_name,
        now,
        lambda: db.session.execute(LATEST_COMPLETIONS, ownership(caller, task_id)).all(),
    )
    if change_of.unchanged:
        return current
    if change_of.record is not None:
        db.session.execute(
            insert(task_completions).values(
                user_id=caller.user_id,
                id=uuid.uuid4(),
                task_id=task_id,
                title=change_of.columns.get("title", current.title),
                completed_at=now,
                occurrence=change_of.record,
            )
        )
    if change_of.record is not None and current.subtasks_completed:
        reopen_subtasks(caller, task_id, within)
    if change_of.undo is not None:
        db.session.execute(
            delete(task_completions).where(
                task_completions.c.user_id == caller.user_id,
                task_completions.c.id == change_of.undo.id,
            )
        )
    return write_plain(
        caller, task_id, change_of.columns, (current.version,), change_of.flip, within, False
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


@cache
def reopen_shape(dialect: str, pending: bool):
    """A parent's completed live subtasks open again, in one statement."""
    values = stamped({"completed": False, "completed_at": None}, true(), dialect, pending)
    return update(tasks).where(*SUBTASKS_OF_TASK, tasks.c.completed, LIVE).values(**values)


def reopen_subtasks(caller: Caller, task_id: uuid.UUID, within: Change | None) -> None:
    """A recurring parent rolled over: its completed subtasks open again for the next
    occurrence. Their history stays: a reopen's trigger removes a task's latest completion
    (migration 0009), which is put back."""
    parameters = {OWNER: caller.user_id, TASK_ID: task_id}
    latest = {}  # each subtask's latest completion: the entries come oldest first
    for entry in db.session.execute(SUBTASK_COMPLETIONS, parameters).mappings():
        latest[entry["task_id"]] = dict(entry)
    db.session.execute(shape_for(reopen_shape, within), {**parameters, NOW: utcnow()})
    if latest:
        db.session.execute(insert(task_completions), list(latest.values()))


# The caller's live tasks whose due date has no zone: where their reminders fall depends on
# the user's.
UNZONED_DUE = select(tasks.c.id, *(tasks.c[name] for name in due.COLUMNS), tasks.c.reminders).where(
    tasks.c.user_id == bindparam(OWNER, type_=Uuid),
    LIVE,
    tasks.c.due_date.is_not(None),
    tasks.c.due_at.is_(None),
)


def place_reminders(caller: Caller, zone_name: str | None) -> int:
    """The user's zone changed: the reminders before all-day and floating due dates fall at
    other instants, written in one change; how many tasks moved."""
    moved = []
    for row in db.session.execute(UNZONED_DUE, {OWNER: caller.user_id}):
        if any(reminder["before"] for reminder in row.reminders):
            moved.append((row.id, reminders.stored(row.reminders, row._mapping, zone_name)))
    if moved:
        with change(caller.user_id) as within:
            for task_id, placed in moved:
                write_plain(caller, task_id, {"reminders": placed}, None, False, within, False)
    return len(moved)


def trash_task(caller: Caller, task_id: uuid.UUID, versions, within: Change | None = None):
    """Move a live task to the trash, guarded by If-Match like every write."""
    shape = shape_for(trash_shape, within, versions is not None)
    write_or_fail(shape, caller, task_id, versions, {})


class ParentInTrash(Exception):
    def __init__(self):
        super().__init__("Its parent task is in the trash: restore the parent (with it).")


def restore_task(
    caller: Caller, task_id: uuid.UUID, versions, since: datetime, within: Change | None = None
) -> Row:
    """Bring a task back from a trash that keeps what was deleted `since`, with the subtasks
    trashed with it, in one statement. A live task comes back as it is (If-Match still
    applies); TaskGone if it was purged or expired; ParentInTrash for a subtask whose parent
    is in the trash."""
    shape = shape_for(restore_shape, within, versions is not None)
    parameters = {**ownership(caller, task_id), KEPT_SINCE: since, VERSIONS: versions}
    for _ in range(RACE_RETRIES):
        restored = db.session.execute(shape, {**parameters, NOW: utcnow()}).all()
        task = next((row for row in restored if row.id == str(task_id)), None)
        if task is not None:
            if len(restored) == 1:
                return task
            # Its subtasks came back too, and their triggers counted them after the row the
            # statement returned: the task as it is now.
            return db.session.execute(SELECT_TASK, ownership(caller, task_id)).first()
        task = db.session.execute(SELECT_ANY_TASK, ownership(caller, task_id)).first()
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
            PARENT_IS_LIVE, {OWNER: caller.user_id, TASK_ID: uuid.UUID(task.parent_id)}
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
                }
                for row in removed
            ],
        )


def purge_task(caller: Caller, task_id: uuid.UUID, versions, within: Change | None = None):
    """Delete a task (live or trashed) for good; its tombstone stays for the feed."""
    if within is None:
        with change(caller.user_id) as within:
            return purge_task(caller, task_id, versions, within)
    parameters = {**ownership(caller, task_id), VERSIONS: versions}
    subtasks = db.session.execute(PURGE_SUBTASKS, parameters).all()
    removed = db.session.execute(purge_shape(versions is not None), parameters).first()
    if removed is None:
        if db.session.scalar(SELECT_MINE_ID, parameters) is None:
            not_found(caller)
        raise TaskChanged()
    entomb(within, [*subtasks, removed])


def empty_trash(caller: Caller) -> int:
    """Purge every task in the caller's trash; how many."""
    with change(caller.user_id) as within:
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


PLACEMENT = ("after", "before")
PLACEMENT_FIELDS = frozenset(PLACEMENT)
# What makes a create a change of its own: a placement (which may re-space its neighbours),
# labels (created and linked beside the task).
CHANGE_FIELDS = PLACEMENT_FIELDS | {"labels"}


def insert_task(caller: Caller, fields: dict, within: Change | None) -> tuple[Row | None, int]:
    """One INSERT … SELECT; with a client-chosen id (`fields["id"]`), None if it is taken. A
    task placed `after` and/or `before` others reads their positions first, in a change (which
    re-spaces the tasks of its scope if no key fits there: how many is the second value); one
    with labels resolves them first and links them after, in a change too."""
    if within is None and CHANGE_FIELDS & fields.keys():
        with change(caller.user_id) as within:
            return insert_task(caller, fields, within)
    if structure.FIELDS & fields.keys():
        fields = {**fields, **structure.placed(caller, None, (None, None), fields)}
    chosen = "id" in fields
    task_id = fields["id"] if chosen else uuid.uuid4()
    skipped = ("id", *revision.MERGED, *PLACEMENT)
    plain = {name: v for name, v in fields.items() if name not in skipped}
    rebalanced = 0
    if PLACEMENT_FIELDS & fields.keys():
        place = placement(caller, task_id, fields.get("list_id"), fields.get("parent_id"))
        after, before = fields.get("after"), fields.get("before")
        try:
            plain["position"] = place_between(place, after, before)
        except ordering.NoRoom:
            rebalanced = respace(within, place, after, before)
            plain["position"] = place_between(place, after, before)
    if revision.MERGED_FIELDS & fields.keys():
        zone_name = db.session.scalar(USER_ZONE, {OWNER: caller.user_id})
        plain.update(revision.new_task(fields, zone_name))
    label_ids = []
    if "labels" in fields:
        plain["labels"], label_ids = label_store.resolve(caller.user_id, fields["labels"])
    parameters = {
        **caller.parameters,
        COMPLETED: False,
        **OPTIONAL_VALUES,
        **plain,
        TASK_ID: task_id,
        NOW: utcnow(),
    }
    if within is not None and "position" not in plain:
        parameters[APPENDED] = ordering.appended_fraction(next(within.appended))
    shape = shape_for(insert_shape, within, chosen, "position" in plain)
    task = first_row(shape, parameters)
    if task is not None and label_ids:
        label_store.link(caller.user_id, task_id, label_ids)
    return task, rebalanced


def placement(caller: Caller, moving: uuid.UUID, list_id, parent_id) -> dict:
    """The parameters of TASK_SCOPE's reads for `moving` in a list (None: the Inbox) under a
    parent (None: at the top level)."""
    return {
        OWNER: caller.user_id,
        positions.MOVING: moving,
        positions.scope_value("list_id"): list_id,
        positions.scope_value("parent_id"): parent_id,
    }


def place_between(place: dict, after: uuid.UUID | None, before: uuid.UUID | None) -> str:
    """The key directly after `after` and/or before `before` (live tasks of the scope), or at
    its end; TaskNotFound for a neighbour that is none of the caller's live tasks."""
    try:
        return TASK_SCOPE.key_between(place, after, before)
    except positions.UnknownNeighbour:
        raise TaskNotFound() from None


def move_task(caller: Caller, task_id: uuid.UUID, place: dict, versions) -> tuple[Row, int]:
    """Place a task directly after `place["after"]`, before `place["before"]`, between both,
    or at the end, of its list or of the list `place["list_id"]` names; in one change. If no
    key fits there (equal neighbours, or keys grown past ordering.REBALANCE_AFTER), every
    live task of that list is re-spaced first, in the same change. The task, and how many
    tasks were re-spaced."""
    after, before = place.get("after"), place.get("before")
    if task_id in (after, before):
        raise positions.BadNeighbour("after" if task_id == after else "before")
    with change(caller.user_id) as within:
        current = db.session.execute(SELECT_TASK_LOCKED, ownership(caller, task_id)).first()
        if current is None:
            not_found(caller)
        if versions is not None and current.version not in versions:
            raise TaskChanged()
        values = structure.placed(caller, task_id, where(current), place)
        target = {**dict(zip(("parent_id", "list_id"), where(current), strict=True)), **values}
        scope = placement(caller, task_id, target["list_id"], target["parent_id"])
        rebalanced = 0
        try:
            values["position"] = place_between(scope, after, before)
        except ordering.NoRoom:
            rebalanced = respace(within, scope, after, before)
            values["position"] = place_between(scope, after, before)
        task = write_plain(caller, task_id, values, (current.version,), False, within, False)
        take_subtasks_along(caller, task, within)
    return task, rebalanced


def where(task: Row) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """A task's parent and list (as structure.placed takes them)."""
    return uuid_or_none(task.parent_id), uuid_or_none(task.list_id)


@cache
def subtasks_list_shape(dialect: str, pending: bool):
    """A parent's subtasks into the parent's list, in one statement."""
    values = {"list_id": bindparam(new_value("list_id"), type_=tasks.c.list_id.type)}
    return (
        update(tasks)
        .where(*SUBTASKS_OF_TASK, tasks.c.list_id.is_distinct_from(values["list_id"]))
        .values(**stamped(values, true(), dialect, pending))
    )


def take_subtasks_along(caller: Caller, task: Row, within: Change | None) -> None:
    """A task written into another list takes its subtasks with it (one statement; none if it
    has none, or is a subtask itself)."""
    if task.parent_id is None:
        parameters = {
            OWNER: caller.user_id,
            TASK_ID: uuid.UUID(task.id),
            new_value("list_id"): uuid_or_none(task.list_id),
            NOW: utcnow(),
        }
        db.session.execute(shape_for(subtasks_list_shape, within), parameters)


def uuid_or_none(text: str | None) -> uuid.UUID | None:
    return None if text is None else uuid.UUID(text)


def respace(within: Change, place: dict, after, before) -> int:
    """New keys for the live tasks around the place after `after` (else before `before`) in
    the scope, so that the one moving gets a short key there next (positions.Scope.respaced),
    written RESPACED_PAGE tasks a statement, as part of `within` (one change number); how
    many."""
    keys = TASK_SCOPE.respaced(place, after, before)
    parameters = {OWNER: within.user_id, NOW: utcnow()}
    for start in range(0, len(keys), RESPACED_PAGE):
        page = keys[start : start + RESPACED_PAGE]
        db.session.execute(respace_shape(db.engine.dialect.name, page), parameters)
    return len(keys)


def respace_shape(dialect: str, keys: list[tuple[uuid.UUID, str]]):
    """One UPDATE giving each task of `keys` its new key: joined to them as a VALUES list on
    PostgreSQL, a CASE over the ids on SQLite (which names no columns of a VALUES list)."""
    owner = tasks.c.user_id == bindparam(OWNER, type_=Uuid)
    if dialect != "postgresql":
        new_keys = case(dict(keys), value=tasks.c.id)
        return (
            update(tasks)
            .where(owner, tasks.c.id.in_(dict(keys)))
            .values(**stamped({"position": new_keys}, true(), dialect, True))
        )
    given = values(column("id", Uuid), column("position", String), name="respaced").data(keys)
    return (
        update(tasks)
        .where(owner, tasks.c.id == given.c.id)
        .values(**stamped({"position": given.c.position}, true(), dialect, True))
    )


def id_key(task_id: uuid.UUID) -> str:
    """The idempotency key under which the answer to a create with a chosen id is kept."""
    return f"task-id:{task_id}"


def add_task(caller: Caller, fields: dict, within: Change | None = None) -> tuple[Row, int]:
    """A new task, and how many tasks were re-spaced to place it; IdConflict if its
    client-chosen id is taken (inside a batch, where no answer is replayed)."""
    task, rebalanced = insert_task(caller, fields, within)
    if task is None:
        if "id" in fields:
            load_account(caller)
            raise IdConflict()
        not_found(caller)  # not_found() raises 401 here
    return task, rebalanced


def add_task_once(
    caller: Caller,
    fields: dict,
    key: str | None,
    request_hash: str,
    answer_for: Callable[[Row, int], Answer],
) -> Answer:
    """Create a task under an Idempotency-Key or a client-chosen id (or both): the first
    answer (`answer_for` the new task and how many tasks were re-spaced for it) is stored
    with the task, in one transaction, and a retry with the same body within 24 h gets it
    back. A chosen id that is taken otherwise (another body, older, trashed or purged) is
    IdConflict.

    Concurrent first tries race: with a chosen id, the later INSERT waits for the first and
    inserts nothing, and the stored answer is read; with a key only, the later one's key
    conflicts, its whole transaction (its task included) rolls back, and it replays the
    first's answer."""
    load_account(caller)  # a stored answer is replayed only to a token that is still current
    keys = [k for k in (key, "id" in fields and id_key(fields["id"])) if k]
    try:
        # Placed after or before other tasks (which may be re-spaced), or labelled: a change.
        in_a_change = CHANGE_FIELDS & fields.keys()
        with change(caller.user_id) if in_a_change else transaction() as within:
            idempotency.purge_expired(caller.user_id)
            if key and (replay := idempotency.stored_answer(caller.user_id, key, request_hash)):
                return replay
            task, rebalanced = insert_task(caller, fields, within)
            if task is None:
                return replay_of_id(caller, fields["id"], request_hash)
            answer = answer_for(task, rebalanced)
            for each in keys:
                idempotency.remember(caller.user_id, each, request_hash, answer)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did. With no
        # answer stored, what conflicted was the user, deleted meanwhile.
        if key and (replay := idempotency.stored_answer(caller.user_id, key, request_hash)):
            return replay
        if "id" in fields:
            return replay_of_id(caller, fields["id"], request_hash)
        raise TokenNotCurrent(USER_GONE) from None
    return answer


def replay_of_id(caller: Caller, task_id: uuid.UUID, request_hash: str) -> Answer:
    """The first answer to a create with this chosen id and body, while the task is live;
    else IdConflict."""
    try:
        replay = idempotency.stored_answer(caller.user_id, id_key(task_id), request_hash)
    except idempotency.KeyReused:
        raise IdConflict() from None
    live = db.session.scalar(SELECT_TASK_VERSION, ownership(caller, task_id)) is not None
    if replay is None or not live:
        raise IdConflict()
    return replay


@dataclass(frozen=True, slots=True)
class Page:
    tasks: list[Row]
    total: int
    more: bool  # another page follows the last of these tasks
    version: str  # what the page reflects: the list's ETag, with the query


def list_page(caller: Caller, query: dict) -> Page:
    """A page of the caller's tasks that match the query, how many match in all, and what
    state of the list it shows (`list_version`, read by the page's own statement)."""
    statement, parameters = page_statement(caller, query)
    rows = statement_rows(statement, parameters)
    if not rows or rows[0].list_version is None:
        # No version: the token is not current, and TokenNotCurrent says why. Nothing found:
        # the version, read before the page again, so the ETag never claims a later state
        # than the page shows.
        load_account(caller)
        version = list_version(caller, query)
        rows = statement_rows(statement, parameters)
    if rows:
        version = rows[0].list_version
    if version is None:  # the token stopped being current since load_account read it
        load_account(caller)
    if len(rows) <= query["limit"] and "cursor" not in query:
        return Page(rows, len(rows), False, version)  # the whole list: nothing to count
    total = first_value(*count_statement(caller, query))
    if total is None:  # the counters' row: the account was deleted meanwhile
        raise TokenNotCurrent(USER_GONE)
    return Page(rows[: query["limit"]], total, len(rows) > query["limit"], version)


def list_version(caller: Caller, query: dict) -> str | None:
    """What state of the list a page would show now (one indexed read); None if the token
    is not current."""
    return first_value(*version_statement(caller, query))
