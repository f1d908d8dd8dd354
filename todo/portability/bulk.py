"""An import's new tasks written at once: the rules of a create (where a task sits, its newer
fields, its labels) checked for all of them with a few reads, then multi-row INSERTs of rows
that carry their change's number already (taken first: numbered at the change's end, each
row would be written twice), and the user's counters and the parents' subtask counts moved
once for all (the triggers leave a row inserted with its number to its writer: migration
0022). Written one at a time, each task's counter update walked every version of the user's
row the import had made: 5,000 tasks took 13 s, 20,000 a statement past its bound. Like the
other stores it takes the caller, raises domain errors and knows no HTTP."""

from collections import Counter
from collections.abc import Callable

from marshmallow import ValidationError
from sqlalchemy import Uuid, bindparam, insert, select, update

from ..accounts.models import users
from ..accounts.tokens import OWNER, USER_GONE, Caller, TokenNotCurrent
from ..columns import utcnow
from ..database import dialect_insert
from ..extensions import db
from ..labels import names
from ..labels import store as label_store
from ..labels.models import task_labels
from ..lists.models import lists
from ..tasks import ordering, revision
from ..tasks.changes import Change, number_now
from ..tasks.creates import OPTIONAL_VALUES
from ..tasks.models import purged_tasks, tasks
from ..tasks.rows import USER_ZONE, IdConflict
from ..tasks.structure import IN_PARENTS_LIST, NO_LIST, NO_PARENT, ONE_LEVEL, OWN_PARENT
from .items import Item

CHUNK = 1000  # rows one statement names (its ids, or the rows it inserts)
IDS = "ids"
OWNER_ID = bindparam(OWNER, type_=Uuid)
SOME_IDS = bindparam(IDS, type_=Uuid, expanding=True)
LIVE_LISTS = select(lists.c.id).where(
    lists.c.user_id == OWNER_ID, lists.c.id.in_(SOME_IDS), lists.c.deleted_at.is_(None)
)
# Live tasks of the user's, locked: the parents the new tasks name (as a create locks its
# parent), the tasks to update after them (before the change's number locks the user's row).
LOCKED = (
    select(tasks.c.id, tasks.c.parent_id, tasks.c.list_id)
    .where(tasks.c.user_id == OWNER_ID, tasks.c.id.in_(SOME_IDS), tasks.c.deleted_at.is_(None))
    .with_for_update(of=tasks)
)
PURGED = select(purged_tasks.c.id).where(
    purged_tasks.c.user_id == OWNER_ID, purged_tasks.c.id.in_(SOME_IDS)
)
COUNT_USER = (
    update(users)
    .where(users.c.id == OWNER_ID)
    .values(
        task_count=users.c.task_count + bindparam("added"),
        completed_count=users.c.completed_count + bindparam("done"),
    )
)
PARENT_ID = "parent"
COUNT_PARENT = (
    update(tasks)
    .where(tasks.c.user_id == OWNER_ID, tasks.c.id == bindparam(PARENT_ID, type_=Uuid))
    .values(
        subtasks_total=tasks.c.subtasks_total + bindparam("added"),
        subtasks_completed=tasks.c.subtasks_completed + bindparam("done"),
    )
)
SET_BY_THE_SERVER = ("id", *revision.MERGED, "labels", "after", "before")
Failed = Callable[[Item, Exception], None]


def found_ids(statement, caller: Caller, ids) -> dict:
    """The rows of `statement` for `ids`, by id, a chunk of ids at a time."""
    ids, found = list(ids), {}
    for start in range(0, len(ids), CHUNK):
        parameters = {OWNER: caller.space_id, IDS: ids[start : start + CHUNK]}
        found.update((row.id, row) for row in db.session.execute(statement, parameters))
    return found


def add_tasks(
    caller: Caller, new: list[tuple[Item, dict]], within: Change, failed: Failed, keep: bool
) -> list[tuple[Item, dict]]:
    """Create `new` (each item with its task as the schema loaded it, its id free), or, if
    any breaks a rule (told to `failed`), nothing; with `keep` False (a preview) only find
    out whether they would be (a row that passes these checks is one the database takes).
    The items created, top-level ones first. The change's number is taken here, and with it
    the user's row: the caller locks every task it writes later before this."""
    creating = {fields["id"]: fields for _, fields in new}
    outside = {f["parent_id"] for f in creating.values() if f.get("parent_id")} - creating.keys()
    parents = found_ids(LOCKED, caller, outside)
    named_lists = {f["list_id"] for f in creating.values() if f.get("list_id")}
    live_lists = found_ids(LIVE_LISTS, caller, named_lists).keys()
    purged = found_ids(PURGED, caller, creating).keys()
    zone_name = db.session.scalar(USER_ZONE, {OWNER: caller.space_id})
    now, rows, written = utcnow(), [], []
    for item, fields in sorted(new, key=lambda pair: pair[1].get("parent_id") is not None):
        try:
            if fields["id"] in purged:
                raise IdConflict()
            place = placed(fields, creating, parents, live_lists)
            rows.append(row_of(caller, fields, place, zone_name, now))
            written.append((item, fields))
        except (ValidationError, IdConflict) as error:
            failed(item, error)
    if len(rows) < len(new) or not rows:
        return []
    labelled(caller, rows)
    if not keep:
        return written
    number = number_now(within)
    if number is None:
        raise TokenNotCurrent(USER_GONE)
    for row in rows:
        row["change_number"] = number
        if row["position"] is None:
            row["position"] = ordering.appended_key(number, next(within.appended))
    counted(caller, rows)
    inserted(caller, rows)
    return written


def placed(fields: dict, creating: dict, parents: dict, live_lists) -> dict:
    """The list and parent of a new task, by the rules of structure.py: the parent a live
    top-level task (of the user, or of the file), whose list its subtask takes."""
    parent_id = fields.get("parent_id")
    if parent_id is None:
        list_id = fields.get("list_id")
        if list_id is not None and list_id not in live_lists:
            raise ValidationError({"list_id": [NO_LIST]})
        return {"list_id": list_id, "parent_id": None}
    if parent_id == fields["id"]:
        raise ValidationError({"parent_id": [OWN_PARENT]})
    parent = creating.get(parent_id) or parents.get(parent_id)
    if parent is None:
        raise ValidationError({"parent_id": [NO_PARENT]})
    if isinstance(parent, dict):
        grandparent, list_id = parent.get("parent_id"), parent.get("list_id")
    else:
        grandparent, list_id = parent.parent_id, parent.list_id
    if grandparent is not None:
        raise ValidationError({"parent_id": [ONE_LEVEL]})
    if "list_id" in fields and fields["list_id"] != list_id:
        raise ValidationError({"list_id": [IN_PARENTS_LIST]})
    return {"list_id": list_id, "parent_id": parent_id}


def row_of(caller: Caller, fields: dict, place: dict, zone_name, now) -> dict:
    """The new task's row as creates.py would insert it (its labels as sent until they are
    resolved, its position and number None until the change's number is taken)."""
    columns = {name: value for name, value in fields.items() if name not in SET_BY_THE_SERVER}
    if revision.MERGED_FIELDS & fields.keys():
        columns.update(revision.new_task(fields, zone_name))
    completed = bool(columns.get("completed"))
    return {
        **OPTIONAL_VALUES,
        "description": None,
        "position": None,
        **columns,
        **place,
        "labels": list(names.distinct(fields.get("labels") or []).values()),
        "user_id": caller.space_id,
        "id": fields["id"],
        "completed": completed,
        "created_at": now,
        "updated_at": now,
        "completed_at": now if completed else None,
        # An import is its caller's write, and assigns nobody (no member is checked here).
        "created_by": caller.actor_id,
        "updated_by": caller.actor_id,
        "completed_by": caller.actor_id if completed else None,
        "assignee_id": None,
        "change_number": None,
        "version": 1,
        "subtasks_total": 0,
        "subtasks_completed": 0,
    }


def labelled(caller: Caller, rows: list[dict]) -> None:
    """Every label the rows carry resolved in one statement (TooManyLabels past the most a
    user has); each row's label identities become their names, and `label_ids` their ids."""
    every = [name for row in rows for name in row["labels"]]
    shown, ids = label_store.resolve(caller.space_id, every)
    by_key = dict(zip(names.distinct(every), zip(shown, ids, strict=True), strict=True))
    for row in rows:
        found = [by_key[names.identity(name)] for name in row["labels"]]
        row["labels"], row["label_ids"] = [name for name, _ in found], [id for _, id in found]


def counted(caller: Caller, rows: list[dict]) -> None:
    """What the triggers would have counted, once: the user's tasks, and each parent's
    subtasks (a new parent's on its row, a stored one's with one UPDATE each)."""
    owner = {OWNER: caller.space_id}
    done = sum(row["completed"] for row in rows)
    db.session.execute(COUNT_USER, {**owner, "added": len(rows), "done": done})
    added = Counter(row["parent_id"] for row in rows if row["parent_id"])
    completed = Counter(row["parent_id"] for row in rows if row["parent_id"] and row["completed"])
    by_id = {row["id"]: row for row in rows}
    stored = []
    for parent_id, count in added.items():
        if parent_id in by_id:
            by_id[parent_id]["subtasks_total"] = count
            by_id[parent_id]["subtasks_completed"] = completed[parent_id]
        else:
            stored.append(
                {**owner, PARENT_ID: parent_id, "added": count, "done": completed[parent_id]}
            )
    if stored:
        db.session.execute(COUNT_PARENT, stored)


def inserted(caller: Caller, rows: list[dict]) -> None:
    """The rows inserted, parents first, a chunk per statement, and their labels linked. An
    id taken meanwhile (the same file imported at once twice) inserts nothing: IdConflict,
    and the whole import rolls back."""
    statement = dialect_insert(tasks, db.engine.dialect.name).on_conflict_do_nothing()
    statement = statement.returning(tasks.c.id)
    links = [
        {"user_id": caller.space_id, "task_id": row["id"], "label_id": label_id}
        for row in rows
        for label_id in row.pop("label_ids")
    ]
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        if len(db.session.execute(statement, chunk).all()) < len(chunk):
            raise IdConflict()
    for start in range(0, len(links), CHUNK):
        db.session.execute(insert(task_labels), links[start : start + CHUNK])
