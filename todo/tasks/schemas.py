"""Tasks' schemas: what the task routes take (bodies and list queries) and what they answer."""

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ..fields import QueryBoolean, QueryInteger, StrictBoolean, Text, TrimmedText, UTCTimestamp
from ..serializer import EncodedSchema
from .listing import SORTS, TRASH_SORTS, position
from .models import DESCRIPTION_MAX, TITLE_MAX

TITLE_LENGTH = validate.Length(min=1, max=TITLE_MAX)
DESCRIPTION_LENGTH = validate.Length(max=DESCRIPTION_MAX)


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


class TaskChangesSchema(Schema):
    """Some of a task's fields: only the ones sent change."""

    title = TrimmedText(validate=TITLE_LENGTH)
    description = Text(allow_none=True, validate=DESCRIPTION_LENGTH)
    completed = StrictBoolean()


class TaskInputSchema(TaskChangesSchema):
    """A new task, or the full replacement of one (an omitted description becomes null)."""

    title = TrimmedText(required=True, validate=TITLE_LENGTH)

    @post_load
    def description_defaults_to_null(self, data, **kwargs):
        """Here, not as the field's default: a default in the document makes generators
        (openapi-typescript) treat the field as required."""
        data.setdefault("description", None)
        return data


class NewTaskSchema(TaskInputSchema):
    """A new task, with the id a client may choose for it (to create it offline and replay
    the request safely)."""

    id = fields.UUID(
        metadata={
            "description": "Chosen by the client: the same id and body again within 24 h get "
            "the first answer; otherwise a taken id is 409"
        }
    )


class CompletionSchema(Schema):
    """Without `completed` the task's completion flips; with it, it is set (safe to retry)."""

    completed = StrictBoolean()


class TaskCursor(fields.String):
    """Decodes a list cursor to (sort, value, id); anything this API did not issue is refused."""

    default_error_messages = {"invalid": "Not a valid cursor: use the Link of the previous page."}

    def _deserialize(self, value, attr, data, **kwargs):
        token = super()._deserialize(value, attr, data, **kwargs)
        try:
            return position(token)
        except (ValueError, TypeError, AttributeError) as error:
            raise self.make_error("invalid") from error


class DeleteQuerySchema(Schema):
    purge = QueryBoolean(
        load_default=False, metadata={"description": "true: delete for good, not to the trash"}
    )


class ListQuerySchema(Schema):
    deleted = QueryBoolean(
        load_default=False,
        metadata={"description": "true: the trash instead (newest deletion first by default)"},
    )
    completed = QueryBoolean(metadata={"description": "Only done, or only open, tasks"})
    q = Text(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Case-insensitive substring of the title or description"},
    )
    sort = fields.String(
        validate=validate.OneOf(SORTS + TRASH_SORTS),
        metadata={
            "description": "Order of the list (a leading - for descending); ties are broken by "
            "id. Default: created_at; in the trash, -deleted_at (deleted_at sorts only there)",
            "x-enum-varnames": [
                sort.lstrip("-").upper() + ("_DESC" if sort.startswith("-") else "")
                for sort in SORTS + TRASH_SORTS
            ],
        },
    )
    limit = QueryInteger(
        load_default=100,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "Page size"},
    )
    cursor = TaskCursor(
        metadata={"description": "Where the page starts: from the previous page's Link"}
    )

    @validates_schema
    def sort_fits_the_list(self, data, **kwargs):
        sort = data.get("sort") or default_sort(data)
        if sort in TRASH_SORTS and not data["deleted"]:
            raise ValidationError("Sort by deleted_at only in the trash (deleted=true).", "sort")
        if "cursor" in data and data["cursor"][0] != sort:
            raise ValidationError("This cursor belongs to another sort order.", "cursor")

    @post_load
    def sort_by_default(self, data, **kwargs):
        data.setdefault("sort", default_sort(data))
        return data


def default_sort(query: dict) -> str:
    return "-deleted_at" if query["deleted"] else "created_at"
