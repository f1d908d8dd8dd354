"""An import applied: every task of a file written through the task store in one change (one
number: the feed shows the whole import as one change), all of it or nothing. A task whose id
the user already has is updated (a second import of the same file creates nothing), any
other created with that id; a preview is the same run, rolled back. Like the other stores it
takes the caller, raises domain errors and knows no HTTP."""

import uuid
from dataclasses import dataclass, field

from marshmallow import ValidationError
from sqlalchemy import Uuid, bindparam, insert, select

from ..accounts.store import load_account
from ..accounts.tokens import OWNER, Caller
from ..columns import utcnow
from ..errors import by_path
from ..extensions import db
from ..labels.store import TooManyLabels
from ..lists.models import lists
from ..lists.store import LIVE_COUNT, MOST_LIVE, TAKEN, TooManyLists, listed
from ..tasks import creates, structure
from ..tasks.changes import PENDING, Change, change
from ..tasks.models import tasks
from ..tasks.rows import IdConflict, TaskChanged, TaskNotFound
from ..tasks.trash import ParentInTrash
from ..tasks.writes import TaskWrite, write_task
from .items import Item, Parsed

# What fails one task of a file, not the import: its values, or the task its id names.
TASK_ERRORS = (ValidationError, TaskNotFound, TaskChanged, IdConflict, ParentInTrash, TooManyLabels)
IDS = "ids"
CHUNK = 500  # ids a lookup names at once
STORED = select(tasks.c.id, tasks.c.completed, tasks.c.version, tasks.c.deleted_at).where(
    tasks.c.user_id == bindparam(OWNER, type_=Uuid),
    tasks.c.id.in_(bindparam(IDS, expanding=True)),
)
LIVE_LIST = select(lists.c.id).where(
    lists.c.user_id == bindparam(OWNER, type_=Uuid),
    lists.c.id == bindparam("list_id", type_=Uuid),
    lists.c.deleted_at.is_(None),
)


@dataclass
class Report:
    """What an import did (or, previewed, would do): the tasks created and updated (where in
    the file, id, title), how many were already as the file has them, the lists created, the
    problems that keep it from being applied, what was not imported of the tasks that were
    (warnings) and of the file (ignored, by kind)."""

    format: str
    applied: bool = False
    created: list[dict] = field(default_factory=list)
    updated: list[dict] = field(default_factory=list)
    unchanged: int = 0
    lists_created: int = 0
    problems: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    ignored: dict = field(default_factory=dict)


class ImportRejected(Exception):
    """The file has problems: nothing of it was written."""

    def __init__(self, report: Report):
        super().__init__(f"The file has {len(report.problems)} problem(s): nothing was imported.")
        self.report = report


class Discarded(Exception):
    """A preview's end: its writes rolled back."""


def run(
    caller: Caller,
    parsed: Parsed,
    loaded: list[tuple[Item, dict]],
    list_id: uuid.UUID | None,
    keep: bool,
) -> Report:
    """Apply the file's tasks (`loaded`: each item with its task as the schema loaded it)
    into `list_id` (None: where the file puts them; the Inbox), or with `keep` False only
    find out what that would do. ImportRejected if any task, or the file, has a problem."""
    load_account(caller)
    report = Report(parsed.format, problems=list(parsed.problems), ignored=dict(parsed.ignored))
    report.warnings = [
        {"where": item.where, "message": warning} for item, _ in loaded for warning in item.warnings
    ]
    try:
        with change(caller.space_id, of_lists=True) as within:
            if list_id is not None:
                structure.check_list(caller, list_id)
            else:
                add_lists(caller, parsed.lists, within, report)
            stored = stored_tasks(caller, [fields["id"] for _, fields in loaded])
            for item, fields in ordered(loaded):
                if list_id is not None:
                    fields = {**fields, "list_id": list_id}
                write_one(caller, item, fields, stored, within, report)
            if report.problems:
                raise ImportRejected(report)
            if not keep:
                raise Discarded()
    except Discarded:
        return report
    report.applied = True
    return report


def ordered(loaded: list[tuple[Item, dict]]) -> list[tuple[Item, dict]]:
    """Top-level tasks first, so each subtask finds its parent written."""
    return sorted(loaded, key=lambda pair: pair[1].get("parent_id") is not None)


def stored_tasks(caller: Caller, ids: list[uuid.UUID]) -> dict:
    found = {}
    for start in range(0, len(ids), CHUNK):
        parameters = {OWNER: caller.space_id, IDS: ids[start : start + CHUNK]}
        found.update((row.id, row) for row in db.session.execute(STORED, parameters))
    return found


def write_one(caller: Caller, item: Item, fields: dict, stored: dict, within, report) -> None:
    """One task created or updated; a task that fails is a problem of the report, and the
    others are still tried (a preview lists them all). No savepoint: what a failed task
    wrote before it failed (a label row) is rolled back with the whole import, which a
    problem keeps from being applied; and each savepoint that writes is a subtransaction,
    past 64 of which PostgreSQL looks every row's visibility up in pg_subtrans (20,000
    tasks took over 17 minutes, 2,000 took 17 s; without them 2,000 take 6 s)."""
    entry = {"where": item.where, "id": str(fields["id"]), "title": fields["title"]}
    current = stored.get(fields["id"])
    try:
        if current is None:
            creates.add_task(caller, fields, within)
            report.created.append(entry)
            return
        if current.deleted_at is not None:
            raise IdConflict()
        changes = {name: value for name, value in fields.items() if name != "id"}
        if changes.get("completed") == current.completed:
            del changes["completed"]  # a recurring task's completion would roll it over
        task = write_task(TaskWrite(caller, fields["id"], changes, within=within)).task
        if task.version == current.version:
            report.unchanged += 1
        else:
            report.updated.append(entry)
    except TASK_ERRORS as error:
        for name, message in messages_of(error):
            report.problems.append({"where": item.where, "field": name, "message": message})


def messages_of(error: Exception) -> list[tuple[str | None, str]]:
    if isinstance(error, ValidationError) and isinstance(error.messages, dict):
        return [
            (name, " ".join(map(str, found))) for name, found in by_path(error.messages).items()
        ]
    if isinstance(error, ValidationError):  # a rule's (tasks/recurrence.py), on its field
        name = None if error.field_name == "_schema" else error.field_name
        return [(name, " ".join(map(str, error.messages)))]
    if isinstance(error, IdConflict):
        return [("id", "The task with this id is in the trash, or was deleted for good.")]
    return [(None, str(error))]


def add_lists(caller: Caller, found: list[dict], within: Change, report: Report) -> None:
    """The lists an export brings that the user does not have: created with their ids."""
    owner = {OWNER: caller.space_id}
    for each in found:
        if db.session.scalar(LIVE_LIST, {**owner, "list_id": each["id"]}) is not None:
            continue
        if db.session.scalar(TAKEN, listed(caller, each["id"])):
            message = "This list is in the trash, or was deleted for good: restore it first."
            report.problems.append({"where": each["where"], "field": "id", "message": message})
            continue
        if db.session.scalar(LIVE_COUNT, owner) >= MOST_LIVE:
            raise TooManyLists()
        stamp = utcnow()
        db.session.execute(
            insert(lists).values(
                user_id=caller.space_id,
                id=each["id"],
                name=each["name"],
                position=each["position"],
                version=1,
                change_number=PENDING,
                created_at=stamp,
                updated_at=stamp,
            )
        )
        report.lists_created += 1
