"""The newer fields' shapes: due dates, recurrences and reminders, as requests write them
(each of its forms documented apart: todo/openapi.py's OneOf) and as answers give them
(what the answer's composed fields are made of: todo/serializer.py)."""

from datetime import date, datetime, time

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ..fields import CalendarDate, Text, UTCTimestamp, WallTime
from ..openapi import OneOf, form
from ..timestamps import utc_text, wall_text
from . import due, recurrence, reminders
from .models import RULE_MAX

ZONE_EXAMPLE = "Europe/Paris"


class ZoneName(Text):
    """An IANA time zone name, as tasks/due.py knows them."""

    def _deserialize(self, value, attr, data, **kwargs):
        name = super()._deserialize(value, attr, data, **kwargs)
        try:
            due.zone(name)
        except due.DueInvalid as error:
            raise ValidationError(error.messages) from None
        return name


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


def due_encoded(day: date | None, wall: time | None, zone_name: str | None, at: datetime | None):
    """A task's stored due columns as its answer gives them (null for no due date)."""
    if day is None:
        return None
    return {
        "date": day.isoformat(),
        "time": None if wall is None else wall_text(wall),
        "timezone": zone_name,
        "at": None if at is None else utc_text(at),
    }


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
