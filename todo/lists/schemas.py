"""What the list routes take and answer."""

from marshmallow import Schema, fields, validate

from ..fields import QueryBoolean, TrimmedText, UTCTimestamp
from ..serializer import EncodedSchema
from ..tasks.schemas import OrderKey
from .models import NAME_MAX

NAME = {"validate": validate.Length(min=1, max=NAME_MAX), "metadata": {"example": "Groceries"}}


class TaskListSchema(EncodedSchema):
    """A list as every answer gives it."""

    id = fields.String(dump_only=True, required=True, metadata={"format": "uuid"})
    user_id = fields.String(dump_only=True, required=True, metadata={"format": "uuid"})
    name = fields.String(dump_only=True, required=True)
    position = fields.String(
        dump_only=True,
        required=True,
        metadata={"description": "The list's place among the user's lists (as a task's)"},
    )
    version = fields.Integer(
        dump_only=True, required=True, metadata={"description": "The number the ETag quotes"}
    )
    task_count = fields.Integer(
        dump_only=True,
        required=True,
        metadata={"description": "Its live tasks (in the trash: those trashed with it)"},
    )
    completed_count = fields.Integer(
        dump_only=True, required=True, metadata={"description": "Of those, the completed ones"}
    )
    owner_id = fields.String(
        dump_only=True,
        required=True,
        metadata={"format": "uuid", "description": "Whose list it is (see docs/sharing.md)"},
    )
    role = fields.String(
        dump_only=True,
        required=True,
        metadata={
            "description": "The caller's role in it: owner, or in a list shared with the "
            "caller editor or viewer"
        },
    )
    created_at = UTCTimestamp(dump_only=True, required=True)
    updated_at = UTCTimestamp(dump_only=True, required=True)
    deleted_at = UTCTimestamp(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "When the list went to the trash; null while it is live"},
    )


class TaskListMoveSchema(Schema):
    """Where a list goes among the user's lists: directly after one, before one, between
    both (which must still be in that order), or at the end with neither."""

    after = fields.UUID(metadata={"description": "The list it goes directly after"})
    before = fields.UUID(metadata={"description": "The list it goes directly before"})


class NewTaskListSchema(TaskListMoveSchema):
    """A new list: its name (trimmed; duplicates allowed), the id a client may choose, and
    where it goes (default: the end). A user has at most 500 live lists."""

    id = fields.UUID(
        metadata={
            "description": "Chosen by the client: the same id and body again within 24 h get "
            "the first answer; otherwise a taken id is 409"
        }
    )
    name = TrimmedText(required=True, **NAME)


class TaskListChangesSchema(Schema):
    """A list's name, or a client-computed position."""

    name = TrimmedText(**NAME)
    position = OrderKey(metadata={"description": "A fractional-indexing key", "example": "a0V"})


class TaskListQuerySchema(Schema):
    deleted = QueryBoolean(
        load_default=False,
        metadata={"description": "true: the lists in the trash, newest deletion first"},
    )
