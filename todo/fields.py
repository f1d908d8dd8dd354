"""Marshmallow fields with this API's strictness: booleans that are booleans, text any
database can store, timestamps in one format."""

import re
from datetime import time

from marshmallow import fields

from .timestamps import utc_text, wall_text


class StrictBoolean(fields.Boolean):
    """A JSON true/false only: "true", 1 and null are not booleans."""

    default_error_messages = {"invalid": "Not a valid boolean: use true or false."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Text(fields.String):
    """A string both databases store as sent: valid Unicode (no lone surrogates), no NUL."""

    default_error_messages = {"unstorable": "Must be Unicode text without NUL characters."}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not storable(text):
            raise self.make_error("unstorable")
        return text


def storable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


class TrimmedText(Text):
    """Text with surrounding whitespace removed before it is validated."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class Email(Text, fields.Email):
    """Emails are trimmed and lower-cased: one account per address."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().lower()
        return super()._deserialize(value, attr, data, **kwargs)


class QueryInteger(fields.Integer):
    """A query-string integer written plainly: ASCII digits, no sign, no spaces."""

    DIGITS = re.compile(r"[0-9]{1,9}")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not self.DIGITS.fullmatch(value):
            raise self.make_error("invalid")
        return int(value)


class QueryBoolean(fields.Boolean):
    """A query-string flag: exactly `true` or `false`."""

    truthy, falsy = {"true"}, {"false"}


class UTCTimestamp(fields.DateTime):
    """RFC 3339 in UTC with a Z suffix, always with microseconds."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else utc_text(value)


class StrictInteger(fields.Integer):
    """A JSON integer only: not a string of digits, a float or a boolean."""

    default_error_messages = {"invalid": "Not a valid integer."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


class WallTime(fields.Field):
    """A time of day on a wall clock: `HH:MM` or `HH:MM:SS` (24 h, no zone, no fraction);
    dumped as `HH:MM`, or `HH:MM:SS` when the seconds are not zero."""

    PATTERN = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?")
    default_error_messages = {"invalid": "Not a valid time: use HH:MM or HH:MM:SS (24 h)."}

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else wall_text(value)

    def _deserialize(self, value, attr, data, **kwargs):
        parts = self.PATTERN.fullmatch(value) if isinstance(value, str) else None
        if parts is None:
            raise self.make_error("invalid")
        hour, minute, second = (int(part or 0) for part in parts.groups())
        return time(hour, minute, second)


class CalendarDate(fields.Date):
    """A date written `YYYY-MM-DD` exactly (marshmallow's Date takes other ISO 8601 forms)."""

    PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
    default_error_messages = {"invalid": "Not a valid date: use YYYY-MM-DD."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not self.PATTERN.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)
