"""Reminders: data for clients, which schedule the notifications themselves.

A reminder is `{"before": "PT15M"}` (an ISO 8601 duration, 0 to 28 days, counted back from
the due date: its instant if zoned, 00:00 on its date in the user's zone if all-day, its wall
time in the user's zone if floating) or `{"at": instant}`. Each is stored as answers give it,
with its `remind_at`, which is computed again whenever the due date moves (a roll-over
included). A floating due date has no instant until the user has a zone: its reminders'
`remind_at` are null until then.
"""

import re
from datetime import UTC, datetime, timedelta

from marshmallow import ValidationError

from ..timestamps import utc_text
from . import due

MOST = 5
LONGEST = timedelta(days=28)
DURATION = re.compile(
    r"P(?:(?P<weeks>[0-9]+)W)?(?:(?P<days>[0-9]+)D)?"
    r"(?:T(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?(?:(?P<seconds>[0-9]+)S)?)?"
)


class RemindersInvalid(ValidationError):
    def __init__(self, message: str):
        super().__init__(message, field_name="reminders")


def duration(text: str) -> timedelta:
    """An ISO 8601 duration of weeks, days, hours, minutes and seconds, 0 to 28 days;
    ValueError for anything else."""
    found = DURATION.fullmatch(text)
    if found is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(text)
    try:
        length = timedelta(**{unit: int(n) for unit, n in found.groupdict().items() if n})
    except OverflowError:  # past timedelta's billion days
        raise ValueError(text) from None
    if length > LONGEST:
        raise ValueError(text)
    return length


def anchor(columns: dict, user_zone: str | None) -> datetime | None:
    """The instant a due date's `before` reminders count back from; None without one."""
    if columns["due_date"] is None:
        return None
    if columns["due_at"] is not None:
        return columns["due_at"]
    if columns["due_time"] is None:
        return due.day_start(columns["due_date"], user_zone or "UTC")
    if user_zone is None:
        return None
    return due.instant(columns["due_date"], columns["due_time"], user_zone)


def stored(reminders: list[dict], columns: dict, user_zone: str | None) -> list[dict]:
    """Reminders as written (`before` a duration's text, or `at` an instant) as answers give
    them, with their remind_at for the due date in `columns`."""
    start = anchor(columns, user_zone)
    answered = []
    for reminder in reminders:
        if reminder.get("before") is not None:
            if columns["due_date"] is None:
                raise RemindersInvalid("A reminder before the due date needs a due date.")
            remind_at = None if start is None else start - duration(reminder["before"])
            answered.append({"before": reminder["before"], "at": None, "remind_at": remind_at})
        else:
            at = in_utc(reminder["at"])
            answered.append({"before": None, "at": at, "remind_at": at})
    return [{name: as_text(value) for name, value in each.items()} for each in answered]


def in_utc(at: datetime | str) -> datetime:
    """An `at` instant in UTC; RemindersInvalid for one UTC cannot hold (9999-12-31T23:00-14:00
    is in year 10000 there)."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise RemindersInvalid("An instant `at` must fall before year 10000 in UTC.") from None


def as_text(value):
    return utc_text(value) if isinstance(value, datetime) else value
