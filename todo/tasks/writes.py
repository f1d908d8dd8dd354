"""Every write of one task (PUT, PATCH, a completion, a move, a batch's operation): one value,
TaskWrite, through the steps `write_task` lists in order.

A write that needs nothing stored and nothing beside the task's own row is one UPDATE with
every guard in it (the owner, the token, If-Match), committed on its own. Any other runs in
a transaction: the change it belongs to (a batch's), or one of its own when it writes rows
beside the task's (label links, a re-spaced order), and takes its steps there, each a small
function of the value that may give back a new one. Branching lives inside a step: a step
with nothing to do gives the value back as it was.
"""

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from functools import cache, partial
from typing import NamedTuple

from sqlalchemy import Row, Uuid, bindparam, case, false, not_, or_, select, true, update

from ..accounts.tokens import ACTOR, OWNER, Caller
from ..columns import utcnow
from ..database import first_row, transaction
from ..extensions import db
from ..labels import store as label_store
from . import assignees, due, history, placement, reminders, revision, structure
from .changes import NOW, Change, change, joined, now, stamped, when
from .models import TASK_ROW, tasks
from .rows import (
    LIVE,
    SELECT_TASK_LOCKED,
    SELECT_TASK_STATE,
    SUBTASKS_OF_TASK,
    TASK_ID,
    USER_ZONE,
    VERSIONS,
    TaskChanged,
    guarded,
    new_value,
    not_found,
    ownership,
    run_by,
    shape_for,
    where,
)


@dataclass(frozen=True, slots=True)
class TaskWrite:
    """What a write of one task asks: who asks, of which task, what changes (the fields as
    the schemas loaded them, or the columns a step worked out), and its guards: the versions
    If-Match allows (None: any), the occurrence a completion is meant for, the change it
    belongs to (a batch's), and for a move, `after`/`before` in the order. The steps add what
    they find: the label rows to link, how many tasks a move re-spaced, and whether the write
    depends on the task as stored (a completion found it recurring)."""

    caller: Caller
    task_id: uuid.UUID
    changes: Mapping
    versions: Sequence[int] | None = None
    flip: bool = False  # flip `completed` (a toggle)
    occurrence: date | None = None
    within: Change | None = None
    place: Mapping | None = None  # a move's neighbours: {"after": id?, "before": id?}
    stored: bool = False  # the stored task decides what is written: read and lock it first
    # A completion through the plain UPDATE is written only for a task without recurrence
    # (Recurring otherwise); a revision's UPDATE writes what the rules decided.
    plain: bool = True
    label_ids: tuple = ()
    rebalanced: int = 0
    assignee_checked_in: tuple = ()  # (the list the new assignee was checked against,)

    def but(self, **fields) -> "TaskWrite":
        return replace(self, **fields)


class Written(NamedTuple):
    task: Row
    rebalanced: int  # tasks given new keys to make room for a move


class Recurring(Exception):
    """A completion's plain UPDATE found the task recurring: what it writes depends on the
    task as stored (a roll-over)."""


# A statement reads the tasks as they were when it started: a change committed meanwhile (a
# restore, a delete) can hide the task from it (PostgreSQL skips a row whose version as of its
# start fails the WHERE). Seeing the task there after all, the write runs again; another write
# landing in that same window every time, this many times over, would be a 412.
RACE_RETRIES = 5


def write_task(write: TaskWrite) -> Written:
    """Write one task, in these steps: alone if it can be (one UPDATE); else, in the change
    or transaction it runs in, its labels resolved (their rows locked before the task's), the
    task read and locked if the write depends on it, its place (list, parent, key) checked,
    its revision worked out and written with the history it keeps, its subtasks taken along
    to a new list, and its labels linked."""
    if runs_alone(write):
        try:
            return Written(update_row(write), 0)
        except Recurring:
            write = write.but(stored=True)
    with change_for(write) as write:
        write = with_labels(write)
        write = with_assignee(write)
        current = stored_row(write)
        write = placed(write, current)
        assignee_holds(write, current)
        task = updated(write, current)
        take_subtasks_along(write, task)
        link_labels(write, task)
    return Written(task, write.rebalanced)


def depends_on_stored(write: TaskWrite) -> bool:
    """Whether what the write does depends on the task as stored: a merge of the newer
    fields, a completion of one occurrence, a new list or parent (whose rules read the task),
    a move."""
    return (
        write.stored
        or write.occurrence is not None
        or write.place is not None
        or bool((revision.MERGED_FIELDS | structure.FIELDS) & write.changes.keys())
        or assignees.assigns_member(write.caller, write.changes)
    )


def runs_alone(write: TaskWrite) -> bool:
    """One UPDATE, committed on its own: nothing stored, no change to belong to, no rows
    beside the task's to write."""
    return write.within is None and "labels" not in write.changes and not depends_on_stored(write)


@contextmanager
def change_for(write: TaskWrite) -> Iterator[TaskWrite]:
    """Where the write's statements run: the change it belongs to; a change of its own when it
    writes rows beside the task's (label links; a move may re-space others), so that all take
    one number; else a transaction."""
    if write.within is None and "labels" not in write.changes and write.place is None:
        with transaction():
            yield write
        return
    with joined(write.caller.space_id, write.within) as within:
        yield write.but(within=within)


def with_labels(write: TaskWrite) -> TaskWrite:
    """The labels as the task will show them, their rows made or found (and locked) first."""
    if "labels" not in write.changes:
        return write
    shown, label_ids = label_store.resolve(write.caller.space_id, write.changes["labels"])
    return write.but(changes={**write.changes, "labels": shown}, label_ids=tuple(label_ids))


def with_assignee(write: TaskWrite) -> TaskWrite:
    """A write assigning the task to a member: the membership checked (a 422 on assignee_id
    otherwise) with the list's row locked, before the task's (assignees.py)."""
    return write.but(
        assignee_checked_in=assignees.checked(write.caller, write.task_id, write.changes)
    )


def assignee_holds(write: TaskWrite, current: Row | None) -> None:
    """The new assignee checked again if the task is not where it was when they were; a
    move's new list locked if assignees go there (assignees.lock_for_move)."""
    if current is not None:
        list_id = write.changes.get("list_id", where(current)[1])
        assignees.recheck(write.caller, write.assignee_checked_in, list_id, write.changes)
        assignees.lock_for_move(write.caller, current, list_id)


def stored_row(write: TaskWrite) -> Row | None:
    """The task as stored, read and locked (the lock every write of it takes first), when
    the write depends on it; If-Match checked against it. None when nothing stored matters."""
    if not depends_on_stored(write):
        return None
    locked = run_by(write.caller, SELECT_TASK_LOCKED)
    current = db.session.execute(locked, ownership(write.caller, write.task_id)).first()
    if current is None:
        not_found(write.caller)
    if write.versions is not None and current.version not in write.versions:
        raise TaskChanged()
    return current


def placed(write: TaskWrite, current: Row | None) -> TaskWrite:
    """Where the task goes, when the write names a list or parent or is a move: the list and
    parent the rules allow (structure.py), and for a move its key in that scope's order
    (placement.py, which may re-space its neighbours)."""
    if write.place is None and not structure.FIELDS & write.changes.keys():
        return write
    changes = {
        **write.changes,
        **structure.placed(write.caller, write.task_id, where(current), write.changes),
    }
    if write.place is None:
        return write.but(changes=changes)
    parent_id, list_id = where(current)
    scope = placement.scope_of(
        write.caller,
        write.task_id,
        changes.get("list_id", list_id),
        changes.get("parent_id", parent_id),
    )
    key, rebalanced = placement.key_in(scope, write.within, write.place)
    return write.but(changes={**changes, "position": key}, rebalanced=rebalanced)


def updated(write: TaskWrite, current: Row | None) -> Row:
    """The one UPDATE: of the changes as asked when nothing stored decides them (a plain
    UPDATE that finds the task recurring reads it then), else of the revision the rules make
    of the stored task."""
    if current is None:
        try:
            return update_row(write)
        except Recurring:
            current = stored_row(write.but(stored=True))
    if revises(write, current):
        return revised(write, current)
    return update_row(write.but(versions=(current.version,)))


def revises(write: TaskWrite, current: Row) -> bool:
    """Whether the rules must work out what to write: a merge of the newer fields, a
    completion of one occurrence, or a completion of a recurring task."""
    completion = write.flip or "completed" in write.changes
    return (
        write.occurrence is not None
        or bool(revision.MERGED_FIELDS & write.changes.keys())
        or (completion and current.recurrence_rule is not None)
    )


def revised(write: TaskWrite, current: Row) -> Row:
    """The revision of the stored task (tasks/revision.py: merge, roll-over, undo) written, with
    the completion history it keeps (history.py); the task as it is if there is nothing to
    do (a completion replayed)."""
    caller = write.caller
    context = revision.Context(
        db.session.scalar(USER_ZONE, {OWNER: caller.space_id}),
        utcnow(),
        partial(history.latest_completions, caller, write.task_id),
    )
    asked = revision.Asked(write.changes, write.flip, write.occurrence)
    revised_as = revision.revise(current._mapping, asked, context)
    if revised_as.unchanged:
        return current
    history.keep(caller, current, revised_as, write.within)
    plain_columns = {"changes": revised_as.columns, "flip": revised_as.flip, "plain": False}
    return update_row(write.but(**plain_columns, versions=(current.version,)))


def take_subtasks_along(write: TaskWrite, task: Row) -> None:
    """A top-level task written into another list takes its subtasks with it (one statement;
    only for a write that named a list or parent, or a move)."""
    if task.parent_id is not None:
        return
    if write.place is None and not structure.FIELDS & write.changes.keys():
        return
    parameters = {
        OWNER: write.caller.space_id,
        TASK_ID: write.task_id,
        new_value("list_id"): uuid.UUID(task.list_id) if task.list_id else None,
        NOW: utcnow(),
    }
    db.session.execute(shape_for(subtasks_list_shape, write.within), parameters)


@cache
def subtasks_list_shape(dialect: str, pending: bool):
    """A parent's subtasks into the parent's list, in one statement."""
    values = {"list_id": bindparam(new_value("list_id"), type_=tasks.c.list_id.type)}
    values["assignee_id"] = assignees.kept_in(values["list_id"])
    return (
        update(tasks)
        .where(*SUBTASKS_OF_TASK, tasks.c.list_id.is_distinct_from(values["list_id"]))
        .values(**stamped(values, true(), dialect, pending))
    )


def link_labels(write: TaskWrite, task: Row) -> None:
    """The task linked to its labels' rows, unless nothing was written (a completion
    replayed leaves the task as it was)."""
    if "labels" in write.changes and task.labels == write.changes["labels"]:
        label_store.link(write.caller.space_id, write.task_id, list(write.label_ids))


class UpdateKind(NamedTuple):
    """What an UPDATE's statement depends on, beside the dialect and whether it is written
    inside a change: the columns it sets, whether it flips `completed`, whether If-Match
    guards it, and whether a completion through it is for a task without recurrence."""

    columns: tuple[str, ...]
    flip: bool
    by_version: bool
    plain: bool


def update_row(write: TaskWrite) -> Row:
    """The task's UPDATE of `write.changes` (or flipping `completed`), with every guard in the
    statement: the owner, the token, If-Match, and for a plain completion, no recurrence."""
    columns = tuple(sorted(write.changes))
    kind = UpdateKind(columns, write.flip, write.versions is not None, write.plain)
    values = {new_value(name): write.changes[name] for name in columns}
    completes = write.plain and (write.flip or "completed" in write.changes)
    return guarded_write(shape_for(update_shape, write.within, kind), write, values, completes)


def guarded_write(shape, write: TaskWrite, values: dict, completes: bool) -> Row:
    """Run a write of one live task (a shape from rows.guarded, for `write.versions`); on no
    row, tell a stale ETag (TaskChanged) from no task and from a token no longer current, or
    run it again if it raced a change it could not see. A write that `completes` a task is
    written for a task without recurrence only: Recurring if that is why no row was written."""
    parameters = {**ownership(write.caller, write.task_id), **values, VERSIONS: write.versions}
    shape, read_state = run_by(write.caller, shape), run_by(write.caller, SELECT_TASK_STATE)
    for _ in range(RACE_RETRIES):
        result = first_row(shape, {**parameters, NOW: utcnow()})
        if result is not None:
            return result
        state = db.session.execute(read_state, ownership(write.caller, write.task_id)).first()
        if state is None:
            not_found(write.caller)
        if write.versions is not None and state.version not in write.versions:
            raise TaskChanged()
        if completes and state.recurrence_rule is not None:
            raise Recurring()
    raise TaskChanged()


@cache
def update_shape(dialect: str, pending: bool, kind: UpdateKind):
    """UPDATE … RETURNING of a live task's columns (new values as parameters
    `new_<column>`), or flipping `completed`. `version` (and so the change number) moves only
    if a value really changes. Built once per shape; only the parameters change per request."""
    values = {name: bindparam(new_value(name), type_=tasks.c[name].type) for name in kind.columns}
    if "list_id" in values and "assignee_id" not in values:
        values["assignee_id"] = assignees.kept_in(values["list_id"])
    changed = or_(false(), *(tasks.c[name].is_distinct_from(v) for name, v in values.items()))
    actor = bindparam(ACTOR, type_=Uuid)
    if kind.flip:
        # `completed` is never null: a flip always changes the task, and never leaves it as it
        # was, so its statement says neither (-16% of a toggle's text, every byte of which
        # psycopg2 copies and PostgreSQL parses per run).
        values["completed"] = done = not_(tasks.c.completed)
        values["completed_at"] = case((done, now), else_=None)
        values["completed_by"] = case((done, actor), else_=None)
        changed = true()
    elif "completed" in values:
        done = values["completed"]
        values["completed_at"] = case(
            (tasks.c.completed == done, tasks.c.completed_at), (done, now), else_=None
        )
        values["completed_by"] = case(
            (tasks.c.completed == done, tasks.c.completed_by), (done, actor), else_=None
        )
    values["updated_by"] = when(changed, actor, tasks.c.updated_by)
    statement = update(tasks).values(**stamped(values, changed, dialect, pending))
    if kind.plain and "completed" in values:
        statement = statement.where(tasks.c.recurrence_rule.is_(None))
    return guarded(statement.where(LIVE), kind.by_version).returning(*TASK_ROW)


def move_task(caller: Caller, task_id: uuid.UUID, place: Mapping, versions) -> Written:
    """Place a task directly after `place["after"]`, before `place["before"]`, between both,
    or at the end, of its list or of the list (or under the parent) `place` names: a write
    whose place in the order is its neighbours (placement.key_in), in a change of its own."""
    neighbours = {name: place[name] for name in placement.NEIGHBOURS if name in place}
    changes = {name: value for name, value in place.items() if name not in neighbours}
    return write_task(TaskWrite(caller, task_id, changes, versions, place=neighbours))


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
    for row in db.session.execute(UNZONED_DUE, {OWNER: caller.space_id}):
        if any(reminder["before"] for reminder in row.reminders):
            moved.append((row.id, reminders.stored(row.reminders, row._mapping, zone_name)))
    if moved:
        with change(caller.space_id) as within:
            for task_id, placed_reminders in moved:
                changes = {"reminders": placed_reminders}
                update_row(TaskWrite(caller, task_id, changes, within=within, plain=False))
    return len(moved)
