"""How the API writes an instant and a wall time as text, in answers, in the JSON it stores
(reminders) and in its cursors alike: RFC 3339 in UTC with a Z and microseconds, and HH:MM.
Pure, so that the task rules (todo/tasks/due.py, reminders.py) and the answers' fields share
one spelling without the rules importing answer formatting."""

from datetime import UTC, time


def utc_text(value) -> str:
    """RFC 3339 in UTC with a Z suffix, always with microseconds."""
    if value.tzinfo is not UTC:  # rows' timestamps are UTC already (models.UTCDateTime)
        value = value.astimezone(UTC)
    # isoformat ends "+00:00" in UTC; it takes half the time strftime does.
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


def wall_text(value: time) -> str:
    """HH:MM, or HH:MM:SS when the seconds are not zero."""
    return value.isoformat("seconds" if value.second else "minutes")
