"""What the feed and the batch take and answer."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..errors import ProblemSchema
from ..fields import CalendarDate, QueryInteger, StrictBoolean, UTCTimestamp
from ..lists.schemas import TaskListSchema
from ..openapi import OneOf, form
from ..serializer import EncodedSchema
from ..sharing.events import REASONS as ENDINGS
from ..tasks.schemas import NewTaskSchema, TaskChangesSchema, TaskInputSchema, TaskSchema
from .shared import MOVED

FEED_LIMIT = 500
REASONS = (*ENDINGS, MOVED)  # why a shared row left a member's view (sync/shared.py)
MAX_WAIT = 60  # seconds a feed poll may wait for a change
MAX_OPERATIONS = 100
OPERATIONS = ("create", "patch", "replace", "complete", "delete", "restore")
# What each operation needs besides `op`.
NEEDS = {
    "create": ("task",),
    "patch": ("id", "changes"),
    "replace": ("id", "task"),
    "complete": ("id",),
    "delete": ("id",),
    "restore": ("id",),
}
# Members of a create's task that a replace's task may not have (PUT's body has none).
REPLACE_REFUSES = {"id", "after", "before"}
# Members an operation may carry, besides `op` and what it needs.
MAY_HAVE = {
    "patch": ("if_match",),
    "replace": ("if_match",),
    "complete": ("if_match", "completed", "occurrence"),
    "delete": ("if_match", "purge"),
    "restore": ("if_match",),
}


class ChangesQuerySchema(Schema):
    since = fields.String(
        metadata={"description": "The next cursor of the previous answer; omitted: a first sync"}
    )
    limit = QueryInteger(
        load_default=FEED_LIMIT,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "Rows per page (one change is never split across pages)"},
    )
    wait = QueryInteger(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_WAIT),
        metadata={
            "description": "With nothing new, wait up to this many seconds for a change "
            "before answering the empty page (0: answer at once)"
        },
    )


class DeletedTaskSchema(EncodedSchema):
    """A task gone from the live list: in the trash, or purged."""

    class Meta:
        name = "DeletedTask"

    id = fields.String(required=True, metadata={"format": "uuid"})
    deleted_at = UTCTimestamp(required=True)
    purged = fields.Boolean(
        required=True,
        metadata={"description": "false: in the trash (restorable); true: gone for good"},
    )
    reason = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(REASONS),
        metadata={
            "description": "null, except for a row of a list shared with the caller that "
            "they can no longer see: `removed` (the owner removed them), `left` (they "
            "left), `list_deleted` (the owner deleted the list for good), `owner_deleted` "
            "(the owner deleted their account), `moved` (the owner moved the task to a "
            "list not shared with them)"
        },
    )


class ChangesSchema(Schema):
    class Meta:
        name = "Changes"

    tasks = fields.List(
        fields.Nested(TaskSchema),
        required=True,
        metadata={
            "description": "Live tasks created or changed, each in its newest state: the "
            "caller's, and those of the lists shared with them (a join brings all of a list's)"
        },
    )
    deleted = fields.List(
        fields.Nested(DeletedTaskSchema),
        required=True,
        metadata={
            "description": "Tasks moved to the trash, or purged; and tasks of a shared list "
            "the caller no longer sees, with the `reason`"
        },
    )
    lists = fields.List(
        fields.Nested(TaskListSchema),
        required=True,
        metadata={
            "description": "Live lists created or changed, each in its newest state; a list "
            "shared with the caller says its owner and the caller's role"
        },
    )
    deleted_lists = fields.List(
        fields.Nested(DeletedTaskSchema),
        required=True,
        metadata={
            "description": "Lists moved to the trash, or purged (with their tasks); and "
            "shared lists the caller no longer sees, with the `reason` (and each of their "
            "tasks under `deleted`)"
        },
    )
    next = fields.String(
        required=True, metadata={"description": "Send as `since` for the changes after these"}
    )
    has_more = fields.Boolean(
        required=True, metadata={"description": "true: ask again at once with `next`"}
    )


class OperationSchema(Schema):
    """One write of a batch; the task bodies follow the single-task routes' rules."""

    class Meta:
        name = "Operation"

    op = fields.String(required=True, validate=validate.OneOf(OPERATIONS))
    id = fields.UUID(metadata={"description": "The task's id (every op but create)"})
    if_match = fields.String(metadata={"description": "As the If-Match header: an ETag or *"})
    task = fields.Nested(
        NewTaskSchema, metadata={"description": "create: the new task; replace: all of it"}
    )
    changes = fields.Nested(TaskChangesSchema, metadata={"description": "patch: the fields"})
    completed = StrictBoolean(metadata={"description": "complete: set it; omitted: flip it"})
    occurrence = CalendarDate(
        metadata={"description": "complete: only while this is the recurring task's due date"}
    )
    purge = StrictBoolean(metadata={"description": "delete: for good, not to the trash"})

    @validates_schema
    def members_fit_the_op(self, data, **kwargs):
        op = data.get("op")
        if op not in NEEDS:
            return
        missing = {name: ["Missing data for required field."] for name in NEEDS[op]}
        errors = {name: message for name, message in missing.items() if name not in data}
        allowed = {"op", *NEEDS[op], *MAY_HAVE.get(op, ())}
        errors.update({name: [f"Not taken by {op}."] for name in data if name not in allowed})
        if op == "replace":  # a whole task as PUT takes it: no id, no placement
            unknown = REPLACE_REFUSES & data.get("task", {}).keys()
            if unknown:
                errors["task"] = {key: ["Unknown field."] for key in sorted(unknown)}
        if errors:
            raise ValidationError(errors)


def operation_form(op: str, **own) -> type[Schema]:
    """The document's schema of one op: its `op`, what it needs and what it may carry."""
    tag = fields.String(required=True, validate=validate.OneOf([op]))
    members = {"needs": NEEDS[op], "may_have": MAY_HAVE.get(op, ())}
    return form(f"{op.capitalize()}Operation", OperationSchema, **members, op=tag, **own)


# One schema per op, told apart by `op`, for the document: `{op: "patch"}` compiles in no
# client. A replace's task is a whole task without the create's id and placement.
REPLACED_TASK = fields.Nested(
    TaskInputSchema, required=True, metadata={"description": "All of the task"}
)
OperationSchema.documented_as = OneOf(
    {
        op: operation_form(op, **({"task": REPLACED_TASK} if op == "replace" else {}))
        for op in OPERATIONS
    },
    tag="op",
)


class Operations(fields.List):
    """Documented as a list of operations; each is checked by the batch on its own, so a
    failure is told by its index."""

    default_error_messages = {"invalid": "Not a list of operations (JSON objects)."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.make_error("invalid")
        return value


class BatchSchema(Schema):
    atomic = StrictBoolean(
        metadata={
            "description": "true (when omitted): all operations or none; false: each on its own"
        },
    )
    operations = Operations(
        fields.Nested(OperationSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_OPERATIONS),
    )


class OperationResultSchema(Schema):
    status = fields.Integer(required=True)
    task = fields.Nested(TaskSchema, metadata={"description": "With 200 and 201"})
    problem = fields.Nested(
        ProblemSchema,
        metadata={"description": "With an error status (non-atomic batches): its problem"},
    )


class BatchResultSchema(Schema):
    class Meta:
        name = "BatchResult"

    results = fields.List(fields.Nested(OperationResultSchema), required=True)
