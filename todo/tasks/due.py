"""Due dates in RFC 5545's three forms, and the calendar arithmetic around them.

A due date is stored as its wall clock (`due_date`, `due_time`, `due_timezone`) plus, for the
zoned form only, the instant it names (`due_at`), derived here and never sent by the database:

- all-day: a date (`due_time` and `due_timezone` null);
- floating: a date and a time with no zone ("18:30 wherever I am");
- zoned: a date, a time and an IANA zone; `due_at` is that wall clock in that zone.

The wall clock is the truth: `due_at` is computed from it, with RFC 5545 section 3.3.5's rule
for the times a zone skips or repeats (a time in a DST gap takes the offset before the gap,
one in an overlap its first occurrence), which is what `zoneinfo` gives with fold=0.

Zones come from the pinned `tzdata` package only (not the system's files), so every platform,
and every server of a deployment, agrees on them.
"""

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from marshmallow import ValidationError

zoneinfo.reset_tzpath(to=[])  # the tzdata package's zones, not /usr/share/zoneinfo's

EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
COLUMNS = ("due_date", "due_time", "due_timezone", "due_at")
NO_DUE = dict.fromkeys(COLUMNS)
END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)


class DueInvalid(ValidationError):
    """A due date that is not one of the three forms (the message says why): invalid input
    of the `due` field, wherever it is found (a schema, or a merge onto the stored one)."""

    def __init__(self, message: str):
        super().__init__(message, field_name="due")


@cache
def zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; DueInvalid for anything else (a path, `localtime`, a typo)."""
    if name not in zone_names():
        raise DueInvalid(f"Unknown time zone {name!r}: use an IANA name such as Europe/Paris.")
    return ZoneInfo(name)


def instant(day: date, wall: time, zone_name: str) -> datetime:
    """The UTC instant of a wall clock in a zone (fold=0: RFC 5545's rule for gaps and
    overlaps)."""
    return datetime.combine(day, wall.replace(fold=0), zone(zone_name)).astimezone(UTC)


def columns(day: date | None, wall: time | None = None, zone_name: str | None = None) -> dict:
    """The stored columns of a due date given as its wall clock; DueInvalid for a time
    without a date or a zone without a time."""
    if day is None:
        if wall is not None or zone_name is not None:
            raise DueInvalid("A due time needs a date.")
        return dict(NO_DUE)
    if wall is None and zone_name is not None:
        raise DueInvalid("A time zone needs a due time: an all-day date has no zone.")
    if not EARLIEST <= day <= LATEST:
        raise DueInvalid("The due date must be between 1900-01-01 and 2999-12-31.")
    at = instant(day, wall, zone_name) if zone_name is not None else None
    return {"due_date": day, "due_time": wall, "due_timezone": zone_name, "due_at": at}


def columns_at(at: datetime, zone_name: str) -> dict:
    """The stored columns of a due date given as an instant, read in `zone_name`."""
    local = at.astimezone(zone(zone_name))
    return columns(local.date(), local.time().replace(tzinfo=None, fold=0), zone_name)


def merged(current: dict, patch: dict | None) -> dict:
    """The columns after a JSON Merge Patch (RFC 7396) of the due date: members sent replace
    the current ones, null removes one (`{"time": null}` makes the task all-day, and so drops
    its zone), `null` for the whole clears it; `{at, timezone}` replaces it whole."""
    if patch is None:
        return dict(NO_DUE)
    if "at" in patch:
        return columns_at(patch["at"], patch["timezone"])
    wall = {
        "date": current["due_date"],
        "time": current["due_time"],
        "timezone": current["due_timezone"],
    }
    wall.update(patch)
    if "time" in patch and patch["time"] is None and "timezone" not in patch:
        wall["timezone"] = None
    return columns(wall["date"], wall["time"], wall["timezone"])


def day_start(day: date, zone_name: str) -> datetime:
    """The instant a local date starts in a zone (its first existing minute)."""
    return datetime.combine(day, time(), zone(zone_name)).astimezone(UTC)


def day_after_start(day: date, zone_name: str) -> datetime:
    """The instant the day after `day` starts: the exclusive end of `day`."""
    return day_start(day + timedelta(days=1), zone_name) if day < LATEST else END_OF_TIME
