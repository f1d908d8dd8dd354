"""Where a task sits: its list (null: the Inbox) and its parent (one level of subtasks). The
rules a write keeps, checked by reading the rows it depends on, the parent locked: a parent is
a live top-level task of the same user; a task with subtasks (live or in the trash) does not
become one; a subtask is in its parent's list. Broken rules are 422s on the field
(marshmallow's ValidationError, as the schemas raise). The composite foreign keys (user_id,
list_id) and (user_id, parent_id) refuse another user's list or parent even without these."""

import uuid

from marshmallow import ValidationError
from sqlalchemy import Uuid, bindparam, exists, select

from ..accounts.tokens import OWNER, Caller
from ..extensions import db
from ..lists.models import lists
from .models import tasks

PARENT, CHILD_OF, THE_LIST = "parent", "child_of", "the_list"
FIELDS = frozenset({"list_id", "parent_id"})
OWNER_ID = bindparam(OWNER, type_=Uuid)
# What a broken rule says (a bulk write, portability/bulk.py, checks the same rules).
NO_LIST = "No such list (or it is in the trash)."
IN_PARENTS_LIST = "A subtask is in its parent's list: move the parent instead."
OWN_PARENT = "A task cannot be its own parent."
NO_PARENT = "No such task (or it is in the trash)."
ONE_LEVEL = "Subtasks go one level deep: that task is a subtask itself."

LIVE_LIST = select(lists.c.id).where(
    lists.c.user_id == OWNER_ID,
    lists.c.id == bindparam(THE_LIST, type_=Uuid),
    lists.c.deleted_at.is_(None),
)
PARENT_ROW = (
    select(tasks.c.parent_id, tasks.c.list_id)
    .where(
        tasks.c.user_id == OWNER_ID,
        tasks.c.id == bindparam(PARENT, type_=Uuid),
        tasks.c.deleted_at.is_(None),
    )
    .with_for_update(of=tasks)
)
HAS_SUBTASKS = select(
    exists().where(tasks.c.user_id == OWNER_ID, tasks.c.parent_id == bindparam(CHILD_OF, Uuid))
)


def invalid(field: str, message: str):
    raise ValidationError({field: [message]})


def check_list(caller: Caller, list_id: uuid.UUID | None) -> None:
    """The Inbox (None) or one of the caller's live lists; else a 422 on list_id."""
    parameters = {OWNER: caller.space_id, THE_LIST: list_id}
    if list_id is not None and db.session.scalar(LIVE_LIST, parameters) is None:
        invalid("list_id", NO_LIST)


def placed(
    caller: Caller,
    task_id: uuid.UUID | None,
    current: tuple[uuid.UUID | None, uuid.UUID | None],
    values: dict,
) -> dict:
    """The list_id and parent_id to write for `values` (which name either) on a task now at
    `current` (its parent and list; a new task: None and None, `task_id` None): a subtask
    takes its parent's list."""
    parent_id, list_id = current
    place = {}
    if "parent_id" in values:
        parent_id = place["parent_id"] = values["parent_id"]
        if parent_id is not None:
            list_id = parent_list(caller, task_id, parent_id)
    if parent_id is not None:
        if "list_id" in values and values["list_id"] != list_id:
            invalid("list_id", IN_PARENTS_LIST)
        place["list_id"] = list_id
    elif "list_id" in values:
        check_list(caller, values["list_id"])
        place["list_id"] = values["list_id"]
    return place


def parent_list(caller: Caller, task_id: uuid.UUID | None, parent_id: uuid.UUID):
    """The list of the task that becomes `task_id`'s parent, once the rules hold."""
    if parent_id == task_id:
        invalid("parent_id", OWN_PARENT)
    parent = db.session.execute(PARENT_ROW, {OWNER: caller.space_id, PARENT: parent_id}).first()
    if parent is None:
        invalid("parent_id", NO_PARENT)
    if parent.parent_id is not None:
        invalid("parent_id", ONE_LEVEL)
    if task_id is not None and db.session.scalar(
        HAS_SUBTASKS, {OWNER: caller.space_id, CHILD_OF: task_id}
    ):
        invalid("parent_id", "A task with subtasks cannot become a subtask.")
    return parent.list_id
