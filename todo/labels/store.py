"""The statements of a user's labels. A task's labels are resolved (new ones created) before
the task is written with their names, and linked after it, in the write's own change
(tasks/writes.py); a rename or a deletion rewrites every task carrying the label in one
statement, under one change number, bumping their versions (an older If-Match gets 412).
Like the other stores, it takes the caller explicitly, raises domain errors and knows
nothing of HTTP.

Locks go label rows first, then tasks, then the user's row (tasks/changes.py): a task write
resolves its labels (locking their rows) before it touches the task, and a rename locks the
label before it rewrites the tasks."""

import uuid
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Row, Uuid, and_, bindparam, delete, exists, func, select, text, true, update

from ..accounts.store import load_account
from ..accounts.tokens import OWNER, Caller
from ..columns import utcnow
from ..database import dialect_insert, statement_rows
from ..extensions import db
from ..fields import storable
from ..tasks.changes import NOW, change, current_number, stamped
from ..tasks.models import tasks
from . import names
from .models import labels, task_labels

OWNER_ID = bindparam(OWNER, type_=Uuid)
TASK_ID, LABEL_ID, LABEL_IDS, KEY, RENAMED, NEW_NAME = (
    "task_id",
    "label_id",
    "label_ids",
    "key",
    "renamed",
    "new_name",
)


MOST_LABELS = 1000  # a user's labels: a GET …/labels of them all stays ~100 KB


class LabelNotFound(Exception):
    def __init__(self):
        super().__init__("Label not found")


class TooManyLabels(Exception):
    def __init__(self):
        super().__init__(
            f"A user has at most {MOST_LABELS} labels: delete one (DELETE …/labels/<name>) first."
        )


def resolve(user_id: uuid.UUID, sent: list[str]) -> tuple[list[str], list[uuid.UUID]]:
    """The labels `sent` names, as shown and by id, in the order sent (one per identity):
    new ones are created as spelled here, known ones keep their spelling. One statement, which
    also locks the rows (a concurrent rename or deletion waits, or is waited for)."""
    wanted = names.distinct(sent)
    if not wanted:
        return [], []
    statement = dialect_insert(labels, db.engine.dialect.name)
    # Keep the stored spelling: the update writes back the name the row already has.
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "key"], set_={"name": labels.c.name}
    ).returning(labels.c.key, labels.c.id, labels.c.name)
    now = utcnow()
    rows = [
        {"user_id": user_id, "id": uuid.uuid4(), "key": key, "name": name, "created_at": now}
        for key, name in wanted.items()
    ]
    found = {row.key: row for row in db.session.execute(statement, rows)}
    proposed = {row["id"] for row in rows}
    created = any(row.id in proposed for row in found.values())  # only then are they counted
    if created and db.session.scalar(LABEL_COUNT, {OWNER: user_id}) > MOST_LABELS:
        raise TooManyLabels()  # the caller's change rolls back the new ones
    return [found[key].name for key in wanted], [found[key].id for key in wanted]


LABEL_COUNT = select(func.count()).select_from(labels).where(labels.c.user_id == OWNER_ID)


UNLINK = delete(task_labels).where(
    task_labels.c.user_id == OWNER_ID,
    task_labels.c.task_id == bindparam(TASK_ID, type_=Uuid),
    task_labels.c.label_id.not_in(bindparam(LABEL_IDS, type_=Uuid, expanding=True)),
)


def link(user_id: uuid.UUID, task_id: uuid.UUID, label_ids: list[uuid.UUID]) -> None:
    """Make the task carry exactly these labels (two statements at most)."""
    parameters = {OWNER: user_id, TASK_ID: task_id, LABEL_IDS: label_ids}
    db.session.execute(UNLINK, parameters)
    if label_ids:
        rows = [{"user_id": user_id, "task_id": task_id, "label_id": each} for each in label_ids]
        statement = dialect_insert(task_labels, db.engine.dialect.name)
        db.session.execute(statement.on_conflict_do_nothing(), rows)


LINKED = and_(task_labels.c.user_id == labels.c.user_id, task_labels.c.label_id == labels.c.id)
CARRIED = and_(tasks.c.user_id == task_labels.c.user_id, tasks.c.id == task_labels.c.task_id)
# The user's labels that live tasks carry, and how many carry each, in identity order.
LIVE_LABELS = (
    select(labels.c.name, func.count().label("task_count"))
    .select_from(labels.join(task_labels, LINKED).join(tasks, CARRIED))
    .where(
        labels.c.user_id == OWNER_ID,
        task_labels.c.user_id == OWNER_ID,
        tasks.c.user_id == OWNER_ID,
        tasks.c.deleted_at.is_(None),
    )
    .group_by(labels.c.id, labels.c.key, labels.c.name)
    .order_by(labels.c.key, labels.c.id)
)


def all_labels(caller: Caller) -> tuple[list[Row], int]:
    """The caller's labels on live tasks, and the change number they reflect (read first:
    the ETag never claims a later state than the answer shows)."""
    number = current_number(caller)
    if number is None:
        load_account(caller)  # raises: the token is why
    return statement_rows(LIVE_LABELS, {OWNER: caller.space_id}), number


FIND_LOCKED = (
    select(labels.c.id, labels.c.key, labels.c.name)
    .where(labels.c.user_id == OWNER_ID, labels.c.key == bindparam(KEY))
    .with_for_update()
)
LIVE_COUNT = (
    select(func.count())
    .select_from(task_labels.join(tasks, CARRIED))
    .where(
        task_labels.c.user_id == OWNER_ID,
        task_labels.c.label_id == bindparam(LABEL_ID, type_=Uuid),
        tasks.c.user_id == OWNER_ID,
        tasks.c.deleted_at.is_(None),
    )
)


def find_locked(user_id: uuid.UUID, name: str) -> Row | None:
    """The label `name` names (any case or width), its row locked; None if there is none, or
    `name` is no label's name (not trimmed, too long, a control character or NUL: from a URL,
    it is not checked before)."""
    if not storable(name) or not names.findable(name):
        return None
    parameters = {OWNER: user_id, KEY: names.identity(name)}
    return db.session.execute(FIND_LOCKED, parameters).first()


@dataclass(frozen=True, slots=True)
class Counted:
    """A label as answers give it."""

    name: str
    task_count: int


def rename_label(caller: Caller, name: str, new_name: str) -> Counted:
    """Rename the label `name` names to `new_name` on every task (one statement rewrites
    them); onto another existing label, merge the two under `new_name`. What it is now."""
    with change(caller.space_id):
        load_account(caller)
        label = find_locked(caller.space_id, name)
        if label is None:
            raise LabelNotFound()
        target = find_locked(caller.space_id, new_name)
        renamed = [label] if target is None or target.id == label.id else [label, target]
        rewrite(caller.space_id, [each for each in renamed if each.name != new_name], new_name)
        if len(renamed) == 1:
            db.session.execute(
                update(labels)
                .where(labels.c.user_id == caller.space_id, labels.c.id == label.id)
                .values(key=names.identity(new_name), name=new_name)
            )
        else:
            merge(caller.space_id, label.id, target.id, new_name)
        survivor = renamed[-1].id
        count = db.session.scalar(LIVE_COUNT, {OWNER: caller.space_id, LABEL_ID: survivor})
    return Counted(new_name, count)


def merge(user_id: uuid.UUID, label_id: uuid.UUID, into: uuid.UUID, new_name: str) -> None:
    """The tasks carrying `label_id` carry `into` instead (once), and `label_id` is gone."""
    mine = and_(task_labels.c.user_id == user_id, task_labels.c.label_id == label_id)
    already = select(task_labels.c.task_id).where(
        task_labels.c.user_id == user_id, task_labels.c.label_id == into
    )
    db.session.execute(delete(task_labels).where(mine, task_labels.c.task_id.in_(already)))
    db.session.execute(update(task_labels).where(mine).values(label_id=into))
    db.session.execute(delete(labels).where(labels.c.user_id == user_id, labels.c.id == label_id))
    db.session.execute(
        update(labels).where(labels.c.user_id == user_id, labels.c.id == into).values(name=new_name)
    )


def delete_label(caller: Caller, name: str) -> None:
    """Take the label off every task (one statement rewrites them), and forget it (its links
    go with it: ON DELETE CASCADE)."""
    with change(caller.space_id):
        load_account(caller)
        label = find_locked(caller.space_id, name)
        if label is None:
            raise LabelNotFound()
        rewrite(caller.space_id, [label], None)
        db.session.execute(
            delete(labels).where(labels.c.user_id == caller.space_id, labels.c.id == label.id)
        )


def rewrite(user_id: uuid.UUID, renamed: list[Row], new_name: str | None) -> None:
    """Every task carrying one of the `renamed` labels shows `new_name` in its place (None:
    nothing), once, where the first of them was: one statement, inside the caller's change."""
    if renamed:
        parameters = {
            OWNER: user_id,
            LABEL_IDS: [each.id for each in renamed],
            RENAMED: [each.name for each in renamed],
            NEW_NAME: new_name,
            NOW: utcnow(),
        }
        db.session.execute(rewrite_shape(db.engine.dialect.name), parameters)


# A task's label names, each renamed one replaced by the new name (or dropped), duplicates
# folded into their first place.
REWRITTEN = {
    "postgresql": """coalesce((
        SELECT jsonb_agg(shown.name ORDER BY shown.first) FROM (
            SELECT CASE WHEN item.value IN :renamed THEN :new_name ELSE item.value END AS name,
                   min(item.ordinality) AS first
            FROM jsonb_array_elements_text(tasks.labels) WITH ORDINALITY AS item(value, ordinality)
            WHERE :new_name IS NOT NULL OR item.value NOT IN :renamed
            GROUP BY 1) AS shown), '[]'::jsonb)""",
    "sqlite": """app_json((
        SELECT json_group_array(shown.name) FROM (
            SELECT CASE WHEN item.value IN :renamed THEN :new_name ELSE item.value END AS name,
                   min(item.key) AS first
            FROM json_each(tasks.labels) AS item
            WHERE :new_name IS NOT NULL OR item.value NOT IN :renamed
            GROUP BY 1 ORDER BY first) AS shown))""",
}


@cache
def rewrite_shape(dialect: str):
    """The tasks carrying the labels LABEL_IDS, their names rewritten and stamped as every
    write of a change stamps them (tasks/changes.py)."""
    names_now = text(REWRITTEN[dialect]).bindparams(bindparam(RENAMED, expanding=True))
    carrying = exists().where(
        task_labels.c.user_id == OWNER_ID,
        task_labels.c.task_id == tasks.c.id,
        task_labels.c.label_id.in_(bindparam(LABEL_IDS, type_=Uuid, expanding=True)),
    )
    values = stamped({"labels": names_now}, true(), dialect, True)
    return update(tasks).where(tasks.c.user_id == OWNER_ID, carrying).values(**values)
