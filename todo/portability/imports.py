"""An import applied: every task of a file written in one change (one number: the feed shows
the whole import as one change), all of it or nothing. The tasks the user does not have are
created with the file's ids, all at once (bulk.py); a task whose id the user has is updated
through the task store, unless the file has it as it is (so a second import of the same
file writes nothing); a preview is the same run, rolled back. Like the other stores it takes
the caller, raises domain errors and knows no HTTP."""

import uuid
from dataclasses import dataclass, field

from marshmallow import ValidationError
from sqlalchemy import Uuid, bindparam, insert, select

from ..accounts.store import load_account
from ..accounts.tokens import OWNER, Caller
from ..columns import utcnow
from ..errors import by_path
from ..extensions import db
from ..labels import names
from ..labels.store import TooManyLabels
from ..lists.models import lists
from ..lists.store import LIVE_COUNT, MOST_LIVE, TAKEN, TooManyLists, listed
from ..tasks import due, revision, structure
from ..tasks.changes import PENDING, Change, change
from ..tasks.models import tasks
from ..tasks.rows import USER_ZONE, IdConflict, TaskChanged, TaskNotFound
from ..tasks.trash import ParentInTrash
from ..tasks.writes import TaskWrite, write_task
from . import bulk
from .items import Item, Parsed

# What fails one task of a file, not the import: its values, or the task its id names.
TASK_ERRORS = (ValidationError, TaskNotFound, TaskChanged, IdConflict, ParentInTrash, TooManyLabels)
# What a file's task is compared with: the columns it may give, as stored.
COMPARED = ("title", "description", "completed", "priority", "position", "list_id", "parent_id")
KEPT = (*due.COLUMNS, "recurrence_rule", "recurrence_from", "reminders")
STORED = select(
    *(tasks.c[name] for name in ("id", "version", "deleted_at", "labels", *COMPARED, *KEPT))
).where(tasks.c.user_id == bulk.OWNER_ID, tasks.c.id.in_(bulk.SOME_IDS))
TWICE = "The file has another task with this id: each task once."
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
                loaded = [(item, {**fields, "list_id": list_id}) for item, fields in loaded]
            else:
                add_lists(caller, parsed.lists, within, report)
            new, stored = split(caller, loaded, report)
            write(caller, (new, stored), within, report, keep)
            if report.problems:
                raise ImportRejected(report)
            if not keep:
                raise Discarded()
    except Discarded:
        return report
    report.applied = True
    return report


def write(caller: Caller, tasks: tuple[list, list], within: Change, report, keep: bool):
    """The tasks the user has, updated, then the new ones created at once, which takes the
    change's number and with it the user's row: after the last task locked, as every write
    locks them. An update that moves a task under a new one waits for its parent, its task
    locked first."""
    new, stored = tasks
    zone_name = db.session.scalar(USER_ZONE, {OWNER: caller.space_id})
    new_ids = {fields["id"] for _, fields in new}
    now = [known for known in stored if known[1].get("parent_id") not in new_ids]
    later = [known for known in stored if known[1].get("parent_id") in new_ids]
    bulk.found_ids(bulk.LOCKED, caller, (fields["id"] for _, fields, _ in later))
    for known in now:
        write_stored(caller, known, zone_name, within, report)
    written = write_new(caller, new, within, report, keep)
    report.created = [entry(item, fields) for item, fields in written]
    for known in later:
        write_stored(caller, known, zone_name, within, report)


def entry(item: Item, fields: dict) -> dict:
    return {"where": item.where, "id": str(fields["id"]), "title": fields["title"]}


def split(caller: Caller, loaded: list[tuple[Item, dict]], report: Report) -> tuple[list, list]:
    """The file's tasks the user does not have (to create), and those they have (each with
    its stored row: to update); an id the file names twice, or one of a task in the trash,
    is a problem."""
    stored = bulk.found_ids(STORED, caller, (fields["id"] for _, fields in loaded))
    seen = set()
    new, known = [], []
    for item, fields in loaded:
        if fields["id"] in seen:
            report.problems.append({"where": item.where, "field": "id", "message": TWICE})
            continue
        seen.add(fields["id"])
        current = stored.get(fields["id"])
        if current is None:
            new.append((item, fields))
        elif current.deleted_at is not None:
            problem_of(report, item, IdConflict())
        else:
            known.append((item, fields, current))
    return new, known


def write_new(caller: Caller, new: list, within: Change, report: Report, keep: bool) -> list:
    """The new tasks, all at once (bulk.py); none if one has a problem."""
    try:
        return bulk.add_tasks(
            caller, new, within, lambda item, error: problem_of(report, item, error), keep
        )
    except TooManyLabels as error:
        report.problems.append({"where": "the file", "field": "labels", "message": str(error)})
        return []


def write_stored(caller: Caller, known: tuple, zone_name, within: Change, report: Report) -> None:
    """A task the user has, updated, unless the file has it as it is (read from the row,
    so importing a file again writes nothing). A task that fails is a problem of the
    report, and the others are still tried (a preview lists them all). No savepoint: what
    a failed task wrote before it failed (a label row) is rolled back with the whole
    import, which a problem keeps from being applied; and each savepoint that writes is a
    subtransaction, past 64 of which PostgreSQL looks every row's visibility up in
    pg_subtrans (20,000 tasks took over 17 minutes)."""
    item, fields, current = known
    if as_stored(fields, current, zone_name):
        report.unchanged += 1
        return
    changes = {name: value for name, value in fields.items() if name != "id"}
    if changes.get("completed") == current.completed:
        del changes["completed"]  # a recurring task's completion would roll it over
    try:
        task = write_task(TaskWrite(caller, fields["id"], changes, within=within)).task
    except TASK_ERRORS as error:
        problem_of(report, item, error)
        return
    if task.version == current.version:
        report.unchanged += 1
    else:
        report.updated.append(entry(item, fields))


def as_stored(fields: dict, current, zone_name) -> bool:
    """Whether the task the file has is the one stored, on every field the file gives."""
    plain = {n: v for n, v in fields.items() if n not in bulk.SET_BY_THE_SERVER}
    if any(getattr(current, name) != value for name, value in plain.items()):
        return False
    if "labels" in fields and list(names.distinct(fields["labels"])) != list(
        names.distinct(current.labels)
    ):
        return False
    if not revision.MERGED_FIELDS & fields.keys():
        return True
    try:
        newer = revision.new_task(fields, zone_name)
    except ValidationError:
        return False  # written, to say why
    return all(getattr(current, name) == value for name, value in newer.items() if name in KEPT)


def problem_of(report: Report, item: Item, error: Exception) -> None:
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
