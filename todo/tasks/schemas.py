"""Tasks' schemas: what the task routes take (bodies: the newer fields' in newer_schemas.py;
list queries: query_schemas.py) and what they answer."""

from functools import partial

from marshmallow import Schema, fields, post_load, validate

from ..fields import (
    CalendarDate,
    StrictBoolean,
    StrictInteger,
    Text,
    TrimmedText,
    UTCTimestamp,
)
from ..labels.names import MOST_PER_TASK
from ..labels.schemas import LabelName
from ..serializer import Composed, EncodedSchema, OwnersOr, StoredList
from . import due, ordering, reminders
from .models import DESCRIPTION_MAX, PRIORITY_MAX, TITLE_MAX
from .newer_schemas import (
    DueInputSchema,
    DueSchema,
    RecurrenceInputSchema,
    RecurrenceSchema,
    ReminderInputSchema,
    ReminderSchema,
    WholeDueSchema,
    WholeRecurrenceSchema,
    due_encoded,
    due_members,
    recurrence_encoded,
    recurrence_members,
)

RECURRENCE_COLUMNS = (
    "recurrence_rule",
    "recurrence_from",
    "recurrence_completed_count",
    "recurrence_last_completed_at",
)

TITLE_LENGTH = validate.Length(min=1, max=TITLE_MAX)
DESCRIPTION_LENGTH = validate.Length(max=DESCRIPTION_MAX)


LIST_ID = fields.UUID(
    allow_none=True,
    metadata={"description": "One of the user's live lists; null: the Inbox"},
)
ASSIGNEE_ID = fields.UUID(
    allow_none=True,
    metadata={
        "description": "Whom the task is assigned to: its owner, or a member of its list; "
        "null: nobody (and once that member leaves the list)"
    },
)
PARENT_ID = fields.UUID(
    allow_none=True,
    metadata={
        "description": "A live top-level task of the user's (the subtask takes its list); "
        "null: a top-level task"
    },
)


class OrderKey(fields.String):
    """A position key a client computed: the algorithm's grammar, at most 64 characters."""

    default_error_messages = {
        "invalid": "Not a fractional-indexing key (at most 64 characters), such as a0V."
    }

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return ordering.checked(value)
        except ValueError:
            raise self.make_error("invalid") from None


PRIORITY = {
    "validate": validate.Range(min=0, max=PRIORITY_MAX),
    "metadata": {"description": "0 none, 1 low, 2 medium, 3 high"},
}


def user_field(description: str, owner: str | None = None, **options) -> fields.String:
    """A user id an answer gives (already text, as the rows' ids are). With `owner`, one never
    null that answer reads give as null where it is that attribute's (models.answered_who)."""
    metadata = {"format": "uuid", "description": description}
    kind = fields.String if owner is None else partial(OwnersOr, owner)
    return kind(dump_only=True, required=True, metadata=metadata, **options)


class SubtaskCountsSchema(Schema):
    """A task's live subtasks and the completed ones among them (a "2/5" badge), kept by the
    database."""

    class Meta:
        name = "SubtaskCounts"

    total = fields.Integer(required=True)
    completed = fields.Integer(required=True)


class TaskSchema(EncodedSchema):
    """A task as every answer gives it: its dump is todo/serializer.py's encoder."""

    # The rows' ids are already text (tasks/models.py: TASK_ROW); documented as uuids all the same.
    id = fields.String(dump_only=True, required=True, metadata={"format": "uuid"})
    user_id = fields.String(dump_only=True, required=True, metadata={"format": "uuid"})
    title = fields.String(dump_only=True, required=True)
    description = fields.String(dump_only=True, required=True, allow_none=True)
    completed = fields.Boolean(dump_only=True, required=True)
    created_at = UTCTimestamp(dump_only=True, required=True)
    updated_at = UTCTimestamp(dump_only=True, required=True)
    version = fields.Integer(
        dump_only=True,
        required=True,
        metadata={"description": "Moves with every change; the number the ETag quotes"},
    )
    deleted_at = UTCTimestamp(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "When the task went to the trash; null while it is live"},
    )
    priority = fields.Integer(dump_only=True, required=True, **PRIORITY)
    completed_at = UTCTimestamp(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "When the task was completed; null while it is open"},
    )
    position = fields.String(
        dump_only=True,
        required=True,
        metadata={
            "description": "The task's place in the manual order (sort=position): a "
            "fractional index, compared byte by byte, ties broken by id",
            "example": "a0V",
        },
    )
    list_id = fields.String(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"format": "uuid", "description": "The task's list; null: the Inbox"},
    )
    parent_id = fields.String(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"format": "uuid", "description": "The task's parent; null: a top-level task"},
    )
    reminders = StoredList(
        fields.Nested(ReminderSchema), dump_only=True, required=True, metadata={"maxItems": 5}
    )
    labels = StoredList(
        fields.String(),
        dump_only=True,
        required=True,
        metadata={
            "maxItems": MOST_PER_TASK,
            "description": "The labels the task carries, in its order, each as first spelled",
            "example": ["home", "errands"],
        },
    )
    created_by = user_field("The user who created the task", "user_id")
    updated_by = user_field(
        "The user whose write last changed the task (docs/sharing.md)", "user_id"
    )
    completed_by = user_field(
        "The user who completed the task; null while it is open", allow_none=True
    )
    assignee_id = user_field(ASSIGNEE_ID.metadata["description"], allow_none=True)
    due = Composed(
        DueSchema,
        due.COLUMNS,
        due_members,
        due_encoded,
        null_without_first=True,
        dump_only=True,
        required=True,
        allow_none=True,
    )
    recurrence = Composed(
        RecurrenceSchema,
        RECURRENCE_COLUMNS,
        recurrence_members,
        recurrence_encoded,
        null_without_first=True,
        dump_only=True,
        required=True,
        allow_none=True,
    )
    subtasks = Composed(
        SubtaskCountsSchema,
        ("subtasks_total", "subtasks_completed"),
        members=("total", "completed"),
        dump_only=True,
        required=True,
    )


class TaskChangesSchema(Schema):
    """Some of a task's fields, as a JSON Merge Patch (RFC 7396): only the ones sent change;
    `due` merges member by member (`{"due": {"time": null}}` makes it all-day), and `null`
    clears it."""

    title = TrimmedText(validate=TITLE_LENGTH)
    description = Text(allow_none=True, validate=DESCRIPTION_LENGTH)
    completed = StrictBoolean()
    priority = StrictInteger(**PRIORITY)
    due = fields.Nested(DueInputSchema, allow_none=True)
    recurrence = fields.Nested(RecurrenceInputSchema, allow_none=True)
    position = OrderKey(
        metadata={
            "description": "A key computed by the client with the fractional-indexing "
            "algorithm (at most 64 characters); duplicates are allowed",
            "example": "a0V",
        }
    )
    reminders = fields.List(
        fields.Nested(ReminderInputSchema), validate=validate.Length(max=reminders.MOST)
    )
    list_id = LIST_ID
    parent_id = PARENT_ID
    assignee_id = ASSIGNEE_ID
    labels = fields.List(
        LabelName(),
        validate=validate.Length(max=MOST_PER_TASK),
        metadata={
            "description": "Replaces the task's labels (at most 20, each 1 to 64 characters, "
            "trimmed); the same label in another case or width counts once",
            "example": ["home", "errands"],
        },
    )


class TaskInputSchema(TaskChangesSchema):
    """A new task, or the replacement of one: title, description (omitted: null) and
    completed as in the first version of this API; the newer fields (due, priority) change
    only when sent, so a client that knows nothing of them never clears them."""

    title = TrimmedText(required=True, validate=TITLE_LENGTH)
    due = fields.Nested(WholeDueSchema, allow_none=True)
    recurrence = fields.Nested(WholeRecurrenceSchema, allow_none=True)

    @post_load
    def whole(self, data, **kwargs):
        """An omitted description is null: here, not as the field's default, which would make
        generators (openapi-typescript) treat the field as required."""
        data.setdefault("description", None)
        return data


class PlacementSchema(Schema):
    """Where a task goes in the manual order: directly after a task, directly before one,
    between both (which must still be in that order), or at the end with neither."""

    after = fields.UUID(metadata={"description": "The task it goes directly after"})
    before = fields.UUID(metadata={"description": "The task it goes directly before"})


class NewTaskSchema(TaskInputSchema, PlacementSchema):
    """A new task, with the id a client may choose for it (to create it offline and replay
    the request safely), and where it goes in the manual order (default: the end)."""

    id = fields.UUID(
        metadata={
            "description": "Chosen by the client: the same id and body again within 24 h get "
            "the first answer; otherwise a taken id is 409"
        }
    )


class MoveSchema(PlacementSchema):
    """Where to move a task in the manual order: among its siblings, or into another list
    (`list_id`) or under another parent (`parent_id`); the neighbours are then of that
    scope."""

    list_id = LIST_ID
    parent_id = PARENT_ID


class CompletionSchema(Schema):
    """Without `completed` the task's completion flips; with it, it is set (safe to retry)."""

    completed = StrictBoolean()
    occurrence = CalendarDate(
        metadata={
            "description": "A recurring task: complete it only while this is its due date "
            "(a retry after the roll-over answers the task unchanged)",
            "example": "2026-12-24",
        }
    )
