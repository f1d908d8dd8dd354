"""What the completion history takes and answers."""

import uuid
from datetime import datetime

from marshmallow import Schema, fields

from .. import cursors
from ..fields import CalendarDate, UTCTimestamp
from ..serializer import EncodedSchema
from ..tasks.newer_schemas import ZoneName
from ..tasks.query_schemas import page_size


class CompletionEntrySchema(EncodedSchema):
    """One completion of a task, kept as it was."""

    class Meta:
        name = "CompletionEntry"

    id = fields.String(required=True, metadata={"format": "uuid"})
    task_id = fields.String(required=True, metadata={"format": "uuid"})
    title = fields.String(required=True, metadata={"description": "The title it had then"})
    completed_at = UTCTimestamp(required=True)
    completed_by = fields.String(
        required=True,
        metadata={
            "format": "uuid",
            "description": "The user who completed it (the owner, or a member of its list)",
        },
    )
    occurrence = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "format": "date",
            "description": "The due date it was completed for (the occurrence of a recurring "
            "task); null for a task without one",
        },
    )


class EntryCursor(fields.String):
    """Where a page starts: after (completed_at, id) of the previous page's last entry."""

    default_error_messages = {"invalid": "Not a valid cursor: use the Link of the previous page."}

    def _deserialize(self, value, attr, data, **kwargs):
        token = super()._deserialize(value, attr, data, **kwargs)
        try:
            completed_at, entry_id = cursors.decode(token)
            return datetime.fromisoformat(completed_at), uuid.UUID(entry_id)
        except (ValueError, TypeError, AttributeError) as error:
            raise self.make_error("invalid") from error


class CompletionsQuerySchema(Schema):
    from_ = CalendarDate(
        data_key="from",
        attribute="from",
        metadata={"description": "Completed on or after this local date (in tz)"},
    )
    to = CalendarDate(metadata={"description": "Completed on or before this local date (in tz)"})
    tz = ZoneName(
        metadata={"description": "The IANA zone of from and to; default: the user's zone, else UTC"}
    )
    task_id = fields.UUID(metadata={"description": "Only this task's completions"})
    limit = page_size()
    cursor = EntryCursor(
        metadata={"description": "Where the page starts: from the previous page's Link"}
    )
