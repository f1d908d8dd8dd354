"""A feed page as clients receive it, by the poll (routes.py) and by the event stream
(todo/live/): encoded through the schemas' own encoders (todo/serializer.py), not dumped field
by field by the documented ChangesSchema, since a poll is what clients send most."""

import uuid

from flask import current_app

from ..lists.schemas import TaskListSchema
from ..sharing.events import REASONS as ENDINGS
from ..tasks.schemas import TaskSchema
from . import store
from .schemas import DeletedTaskSchema

TASK, DELETED, LIST = TaskSchema(), DeletedTaskSchema(), TaskListSchema()


def cursor_key() -> bytes:
    """Feed cursors are signed with the app's secret, which every server shares."""
    return current_app.config["JWT_SECRET_KEY"].encode()


def page_answer(changes: store.Changes, user_id: uuid.UUID, key: bytes) -> dict:
    return {
        "tasks": TASK.dump(changes.tasks, many=True),
        "deleted": DELETED.dump(changes.deleted, many=True),
        "lists": LIST.dump(changes.lists, many=True),
        "deleted_lists": DELETED.dump(changes.deleted_lists, many=True),
        "next": store.feed_cursor(user_id, changes.position, key),
        "has_more": changes.has_more,
    }


def wake_keys(user_id: uuid.UUID, position: store.Position) -> tuple[str, ...]:
    """What a held poll or a stream at `position` waits on: its user's writes, and those of
    every owner of a list shared with them (todo/holding.py)."""
    return (str(user_id), *(str(owner) for owner, _ in position.spaces))


def ends_access(changes: store.Changes) -> bool:
    """The page takes a shared list away from its member (removed, left, deleted)."""
    return any(gone.reason in ENDINGS for gone in changes.deleted_lists)


def is_empty(changes: store.Changes) -> bool:
    return not (changes.tasks or changes.deleted or changes.lists or changes.deleted_lists)
