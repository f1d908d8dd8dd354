"""What the portability routes take and answer: the export's queries, the import's, the
report of an import, and (for the document) the export's own shape."""

from marshmallow import Schema, fields

from ..completions.schemas import CompletionEntrySchema
from ..errors import ProblemSchema
from ..fields import StrictBoolean, UTCTimestamp
from ..tasks.query_schemas import ListQuerySchema
from ..tasks.schemas import TaskSchema
from .items import FORMATS


class ExportQuerySchema(ListQuerySchema):
    """The tasks to export: any list query's filters and sort (GET …/tasks), every page."""

    class Meta:
        exclude = ("limit", "cursor")


class ImportQuerySchema(Schema):
    list_id = fields.UUID(
        metadata={
            "description": "One of the user's live lists: every task imported goes there. "
            "Default: where the file puts them (our JSON export's lists), else the Inbox"
        }
    )


class ImportedTaskSchema(Schema):
    where = fields.String(
        required=True, metadata={"description": "Its place in the file", "example": "line 2"}
    )
    id = fields.String(required=True, metadata={"format": "uuid"})
    title = fields.String(required=True)


class ImportProblemSchema(Schema):
    where = fields.String(
        required=True,
        metadata={
            "description": "A line (CSV), a component (iCalendar), a path (JSON)",
            "example": "component 2 (VTODO) UID 42@example.com",
        },
    )
    field = fields.String(required=True, allow_none=True, metadata={"example": "due.timezone"})
    message = fields.String(required=True)


class ImportWarningSchema(Schema):
    where = fields.String(required=True)
    message = fields.String(required=True)


class ImportCountsSchema(Schema):
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(
        required=True, metadata={"description": "Tasks the user already had as the file has them"}
    )
    lists_created = fields.Integer(required=True)
    problems = fields.Integer(required=True)
    warnings = fields.Integer(required=True)


class ImportReportSchema(Schema):
    """What an import did, or (previewed) would do. The lists name at most 1,000 entries
    each; `counts` counts them all."""

    class Meta:
        name = "ImportReport"

    format = fields.String(required=True, metadata={"enum": list(FORMATS)})
    applied = fields.Boolean(
        required=True, metadata={"description": "false: a preview, or a file with problems"}
    )
    counts = fields.Nested(ImportCountsSchema, required=True)
    created = fields.List(fields.Nested(ImportedTaskSchema), required=True)
    updated = fields.List(fields.Nested(ImportedTaskSchema), required=True)
    problems = fields.List(
        fields.Nested(ImportProblemSchema),
        required=True,
        metadata={"description": "What keeps the file from being applied; empty: it can be"},
    )
    warnings = fields.List(
        fields.Nested(ImportWarningSchema),
        required=True,
        metadata={"description": "What of a task imported is not imported, and why"},
    )
    ignored = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={
            "description": "What the file holds that is not imported, counted by kind",
            "example": {"VEVENT": 2},
        },
    )


class ImportJobSchema(Schema):
    """An import run by a job (a file over IMPORT_INLINE_BYTES): how it stands, and once
    finished what POST …/imports would have answered."""

    class Meta:
        name = "ImportJob"

    id = fields.String(required=True, metadata={"format": "uuid"})
    state = fields.String(
        required=True,
        metadata={
            "enum": ["queued", "running", "finished", "failed"],
            "description": "failed: the worker stopped before it answered (a 500 problem)",
        },
    )
    preview = fields.Boolean(required=True, metadata={"description": "Sent to …/imports/preview"})
    created_at = UTCTimestamp(required=True)
    started_at = UTCTimestamp(required=True, allow_none=True)
    finished_at = UTCTimestamp(required=True, allow_none=True)
    status = fields.Integer(
        metadata={"description": "Once it ended: the status the POST would have answered"}
    )
    report = fields.Nested(
        ImportReportSchema, metadata={"description": "Once finished with status 200"}
    )
    problem = fields.Nested(
        ProblemSchema, metadata={"description": "Once ended with any other status"}
    )


class ExportAccountSchema(Schema):
    user_id = fields.String(required=True, metadata={"format": "uuid"})
    email = fields.String(required=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})


class ExportSettingsSchema(Schema):
    timezone = fields.String(required=True, allow_none=True)


class ExportListSchema(Schema):
    id = fields.String(required=True, metadata={"format": "uuid"})
    name = fields.String(required=True)
    position = fields.String(required=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    updated_at = fields.String(required=True, metadata={"format": "date-time"})
    deleted_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})


class ExportLabelSchema(Schema):
    id = fields.String(required=True, metadata={"format": "uuid"})
    name = fields.String(required=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})


class ExportSchema(Schema):
    """Everything a user owns, in one document (version 1): never a password hash, a token
    or a secret."""

    class Meta:
        name = "Export"

    format = fields.String(required=True, metadata={"enum": ["todo-export"]})
    version = fields.Integer(required=True, metadata={"enum": [1]})
    exported_at = fields.String(required=True, metadata={"format": "date-time"})
    account = fields.Nested(ExportAccountSchema, required=True)
    settings = fields.Nested(ExportSettingsSchema, required=True)
    lists = fields.List(fields.Nested(ExportListSchema), required=True)
    labels = fields.List(fields.Nested(ExportLabelSchema), required=True)
    tasks = fields.List(
        fields.Nested(TaskSchema),
        required=True,
        metadata={"description": "Every task, live and in the trash (deleted_at set)"},
    )
    completions = fields.List(fields.Nested(CompletionEntrySchema), required=True)


class NewSubscriptionSchema(Schema):
    """A calendar feed to make: of one list or of every task, as VTODOs or as events."""

    list_id = fields.UUID(
        allow_none=True,
        metadata={"description": "Only this list's tasks; null or omitted: every list's"},
    )
    events = StrictBoolean(
        metadata={
            "description": "true: each task an event (for calendars that show only events: "
            "an all-day task an all-day event, completed tasks left out); false or omitted: VTODOs"
        },
    )


class SubscriptionSchema(Schema):
    """A calendar subscription as listed: its URL is shown only when it is made."""

    class Meta:
        name = "CalendarSubscription"

    id = fields.String(required=True, metadata={"format": "uuid"})
    list_id = fields.String(required=True, allow_none=True, metadata={"format": "uuid"})
    events = fields.Boolean(required=True)
    created_at = UTCTimestamp(required=True)


class NewSubscriptionAnswerSchema(SubscriptionSchema):
    """A subscription just made, with the URL a calendar application subscribes to: shown
    this once (only a digest of its secret is kept), good until revoked."""

    class Meta:
        name = "NewCalendarSubscription"

    url = fields.String(
        required=True,
        metadata={
            "description": "What to paste into a calendar application (it needs no token)",
            "example": "https://todo.example.com/calendar/Xq3…wE.ics",
        },
    )
    webcal_url = fields.String(
        required=True, metadata={"description": "The same, as webcal:// (opens the app)"}
    )
