"""Tasks' schemas: what the task routes take (bodies and list queries) and what they answer."""

import uuid

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ..fields import (
    CalendarDate,
    QueryBoolean,
    QueryInteger,
    StrictBoolean,
    StrictInteger,
    Text,
    TrimmedText,
    UTCTimestamp,
    WallTime,
    utc_text,
)
from ..labels.names import MOST_PER_TASK
from ..labels.schemas import LabelName
from ..openapi import OneOf, form
from ..serializer import Composed, EncodedSchema, StoredList
from . import due, ordering, recurrence, reminders
from .listing import SORTS, TRASH_SORTS, position
from .models import DESCRIPTION_MAX, PRIORITY_MAX, RULE_MAX, TITLE_MAX

RECURRENCE_COLUMNS = (
    "recurrence_rule",
    "recurrence_from",
    "recurrence_completed_count",
    "recurrence_last_completed_at",
)

TITLE_LENGTH = validate.Length(min=1, max=TITLE_MAX)
DESCRIPTION_LENGTH = validate.Length(max=DESCRIPTION_MAX)


ZONE_EXAMPLE = "Europe/Paris"
LIST_ID = fields.UUID(
    allow_none=True,
    metadata={"description": "One of the user's live lists; null: the Inbox"},
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


class ZoneName(Text):
    """An IANA time zone name, as tasks/due.py knows them."""

    def _deserialize(self, value, attr, data, **kwargs):
        name = super()._deserialize(value, attr, data, **kwargs)
        try:
            due.zone(name)
        except due.DueInvalid as error:
            raise ValidationError(error.messages) from None
        return name


def page_size() -> QueryInteger:
    return QueryInteger(
        load_default=100,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "Page size"},
    )


PRIORITY = {
    "validate": validate.Range(min=0, max=PRIORITY_MAX),
    "metadata": {"description": "0 none, 1 low, 2 medium, 3 high"},
}


class DueSchema(Schema):
    """A due date as answers give it, in one of RFC 5545's three forms: all-day (`time`,
    `timezone` and `at` null), floating (a time, no zone) or zoned (a time in an IANA zone,
    and `at`, the instant it names)."""

    class Meta:
        name = "Due"

    date = fields.Date(required=True, metadata={"example": "2026-12-24"})
    time = WallTime(required=True, allow_none=True, metadata={"example": "18:30"})
    timezone = fields.String(required=True, allow_none=True, metadata={"example": ZONE_EXAMPLE})
    at = UTCTimestamp(
        required=True,
        allow_none=True,
        metadata={"description": "The instant of a zoned due date; null for the other forms"},
    )


def due_members(day, wall, zone_name, at) -> dict | None:
    return None if day is None else {"date": day, "time": wall, "timezone": zone_name, "at": at}


class DueInputSchema(Schema):
    """A due date as a request writes it: `{date, time?, timezone?}`, or `{at, timezone}` for
    a client holding an instant (date and time are then read in that zone)."""

    class Meta:
        name = "DueInput"

    date = CalendarDate(metadata={"example": "2026-12-24"})
    time = WallTime(allow_none=True, metadata={"example": "18:30"})
    timezone = ZoneName(allow_none=True, metadata={"description": "An IANA time zone name"})
    at = fields.AwareDateTime(
        format="iso",
        metadata={"description": "An RFC 3339 instant, with `timezone` and nothing else"},
    )

    @validates_schema
    def one_form(self, data, **kwargs):
        """The two forms apart. Whether a time has its date, and a zone its time, is checked
        on the whole due date (tasks/due.py), after a merge."""
        if "at" in data:
            if set(data) - {"at", "timezone"}:
                raise ValidationError("Give either {date, time, timezone} or {at, timezone}.")
            if data.get("timezone") is None:
                raise ValidationError("An instant needs its timezone.", "timezone")


class WholeDueSchema(DueInputSchema):
    """A due date written whole (create, replace): a date or an instant. Loaded as the merge
    patch that replaces every member, so one code path stores both."""

    class Meta:
        name = "DueInput"

    @validates_schema
    def dated(self, data, **kwargs):
        if "at" not in data and data.get("date") is None:
            raise ValidationError("A due date needs its date (or an instant).", "date")

    @post_load
    def every_member(self, data, **kwargs):
        if "at" not in data:
            data.setdefault("time", None)
            data.setdefault("timezone", None)
        return data


# A due date's forms, for the document: `{}` and `{at}` without its zone compile in no client.
DUE_AT_INSTANT = form("DueAtInstant", DueInputSchema, needs=("at", "timezone"))
DueInputSchema.documented_as = OneOf(
    {
        "instant": DUE_AT_INSTANT,
        "members": form("DueChanges", DueInputSchema, (), may_have=("date", "time", "timezone")),
    }
)
WholeDueSchema.documented_as = OneOf(
    {
        "date": form("DueOnDate", DueInputSchema, needs=("date",), may_have=("time", "timezone")),
        "instant": DUE_AT_INSTANT,
    }
)


class RecurrenceSchema(Schema):
    """A recurring task's rule, as answers give it."""

    class Meta:
        name = "Recurrence"

    rule = fields.String(required=True, metadata={"example": "FREQ=WEEKLY;BYDAY=MO,TH"})
    from_ = fields.String(
        data_key="from",
        required=True,
        validate=validate.OneOf(recurrence.COUNTS_FROM),
        metadata={
            "description": "due: the occurrences of the rule from the due date; completion: "
            "FREQ and INTERVAL counted from each completion"
        },
    )
    completed_count = fields.Integer(
        required=True, metadata={"description": "Occurrences completed so far"}
    )
    last_completed_at = UTCTimestamp(required=True, allow_none=True)


def recurrence_members(rule, counts_from, count, last) -> dict | None:
    if rule is None:
        return None
    return {"rule": rule, "from_": counts_from, "completed_count": count, "last_completed_at": last}


def recurrence_encoded(rule, counts_from, count, last) -> dict | None:
    if rule is None:
        return None
    last = None if last is None else utc_text(last)
    return {"rule": rule, "from": counts_from, "completed_count": count, "last_completed_at": last}


class RecurrenceInputSchema(Schema):
    """A recurrence as a request writes it (in a PATCH, merged member by member)."""

    class Meta:
        name = "RecurrenceInput"

    rule = Text(
        validate=validate.Length(min=1, max=RULE_MAX),
        metadata={
            "description": "An RFC 5545 RRULE value: FREQ DAILY, WEEKLY, MONTHLY or YEARLY; "
            "INTERVAL 1..999, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST, COUNT 1..1000, "
            "UNTIL (YYYYMMDD)",
            "example": "FREQ=WEEKLY;BYDAY=MO,TH",
        },
    )
    from_ = fields.String(
        data_key="from",
        attribute="from",
        validate=validate.OneOf(recurrence.COUNTS_FROM),
        metadata={"description": "What the rule counts from; default: due"},
    )


class WholeRecurrenceSchema(RecurrenceInputSchema):
    """A recurrence written whole (create, replace): the domain refuses one without its rule
    (tasks/recurrence.py), so the document requires it."""


WholeRecurrenceSchema.documented_as = OneOf(
    {"rule": form("WholeRecurrence", RecurrenceInputSchema, needs=("rule",), may_have=("from_",))}
)


class ReminderSchema(Schema):
    """A reminder as answers give it: `before` the due date or `at` an instant, and when it
    falls."""

    class Meta:
        name = "Reminder"

    before = fields.String(required=True, allow_none=True, metadata={"example": "PT15M"})
    at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})
    remind_at = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "format": "date-time",
            "description": "The instant it falls on; null for a reminder before a floating "
            "due date while the user has no zone",
        },
    )


class ReminderInputSchema(Schema):
    class Meta:
        name = "ReminderInput"

    before = Text(
        metadata={
            "description": "An ISO 8601 duration before the due date, 0 to 28 days",
            "example": "PT15M",
        }
    )
    at = fields.AwareDateTime(format="iso", metadata={"description": "An RFC 3339 instant"})

    @validates_schema
    def one_kind(self, data, **kwargs):
        if len(data) != 1:
            raise ValidationError("Give exactly one of before and at.")
        if "before" in data:
            try:
                reminders.duration(data["before"])
            except ValueError:
                raise ValidationError(
                    "Not an ISO 8601 duration of 0 to 28 days (PT15M, P1D).", "before"
                ) from None


# A reminder's two kinds, for the document: `{}` and both at once compile in no client.
ReminderInputSchema.documented_as = OneOf(
    {
        "before": form("ReminderBefore", ReminderInputSchema, needs=("before",)),
        "at": form("ReminderAt", ReminderInputSchema, needs=("at",)),
    }
)


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
    due = Composed(
        DueSchema,
        due.COLUMNS,
        due_members,
        due.encoded,
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


class TaskCursor(fields.String):
    """Decodes a list cursor to (sort, value, id); anything this API did not issue is refused."""

    default_error_messages = {"invalid": "Not a valid cursor: use the Link of the previous page."}

    def _deserialize(self, value, attr, data, **kwargs):
        token = super()._deserialize(value, attr, data, **kwargs)
        try:
            return position(token)
        except (ValueError, TypeError, AttributeError) as error:
            raise self.make_error("invalid") from error


INBOX, TOP_LEVEL = "inbox", "none"


class IdFilter(fields.String):
    """An id, or a `word` that stands for no id (`inbox`: in no list, `none`: no parent)."""

    default_error_messages = {"invalid": "Not an id, nor `{word}`."}

    def __init__(self, word: str, **kwargs):
        super().__init__(**kwargs)
        self.word = word

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text == self.word:
            return text
        try:
            return uuid.UUID(text)
        except ValueError:
            raise self.make_error("invalid", word=self.word) from None


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
    list_id = IdFilter(
        INBOX, metadata={"description": "Only the tasks of this list; inbox: those in no list"}
    )
    parent_id = IdFilter(
        TOP_LEVEL,
        metadata={"description": "Only the subtasks of this task; none: only top-level tasks"},
    )
    label = fields.List(
        LabelName(),
        validate=validate.Length(max=MOST_PER_TASK),
        metadata={
            "description": "Only tasks carrying this label (repeated: every one of them); "
            "case and width do not matter"
        },
    )
    q = Text(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Case-insensitive substring of the title or description"},
    )
    sort = fields.String(
        validate=validate.OneOf(SORTS + TRASH_SORTS),
        metadata={
            "description": "Order of the list (a leading - for descending); ties are broken by "
            "id. Default: created_at; in the trash, -deleted_at (deleted_at sorts only there). "
            "due: earliest first on the wall clocks of tz, an all-day date before the "
            "times of its day, tasks without one last; completed_at: open tasks last; the "
            "descending orders are the exact reverse",
            "x-enum-varnames": [
                sort.lstrip("-").upper() + ("_DESC" if sort.startswith("-") else "")
                for sort in SORTS + TRASH_SORTS
            ],
        },
    )
    has_due = QueryBoolean(metadata={"description": "Only tasks with, or without, a due date"})
    due_from = CalendarDate(
        metadata={
            "description": "Due on or after this local date (zoned due dates placed in tz)",
            "example": "2026-12-01",
        }
    )
    due_to = CalendarDate(
        metadata={
            "description": "Due on or before this local date (zoned due dates placed in tz)",
            "example": "2026-12-31",
        }
    )
    overdue = QueryBoolean(
        metadata={
            "description": "true: only overdue tasks (an all-day date before today in tz, "
            "a zoned instant before now, a floating wall time before now in tz); false: "
            "only the others. Such a list depends on the clock: it has no ETag"
        }
    )
    completed_from = CalendarDate(
        metadata={"description": "Completed on or after this local date (in tz)"}
    )
    completed_to = CalendarDate(
        metadata={"description": "Completed on or before this local date (in tz)"}
    )
    tz = ZoneName(
        metadata={
            "description": "The IANA zone that local dates, today and the due order are read "
            "in; default: the user's zone (GET /api/auth/me), else UTC",
            "example": ZONE_EXAMPLE,
        }
    )
    limit = page_size()
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
        for name, word in (("list_id", INBOX), ("parent_id", TOP_LEVEL)):
            if data.get(name) == word:
                data[word] = data.pop(name)
        return data


def default_sort(query: dict) -> str:
    return "-deleted_at" if query["deleted"] else "created_at"
