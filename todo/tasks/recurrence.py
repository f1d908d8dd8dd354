"""Recurring tasks: which RFC 5545 rules a task may carry, and where a completion moves it.

A rule is an RRULE value (`FREQ=WEEKLY;BYDAY=MO,TH`) evaluated (tasks/occurrences.py, as
python-dateutil would, with bounded work) from the task's `recurrence_start` (its due date
when the rule or the date was last set) on the wall clocks of the task's zone (a zoned task's
own, else the user's). Completing an occurrence moves the due date to the first occurrence
after both the current due date and now, so a late completion never schedules into the past;
`from: "completion"` (what iCalendar cannot say: "every 3 days after it was done") counts the
interval from the completion's local date instead. A rule whose COUNT or UNTIL is used up has
no next occurrence: the task is then completed for real; so has one whose next occurrence is
further than a search may look (occurrences.BUDGET), which a rule is checked against when it
is set: its first occurrence must come within REACH of its start.
"""

import re
from collections import deque
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from marshmallow import ValidationError

from . import occurrences

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST", "COUNT", "UNTIL"}
FROM_COMPLETION_PARTS = {"FREQ", "INTERVAL"}
COUNTS_FROM = ("due", "completion")
NUMBER = re.compile(r"[0-9]{1,4}")
UNTIL_DATE = re.compile(r"[0-9]{8}")
STEP = {"DAILY": "days", "WEEKLY": "weeks", "MONTHLY": "months", "YEARLY": "years"}
REACH = relativedelta(years=10)  # how far from its start a rule's first occurrence may be


class RecurrenceInvalid(ValidationError):
    """A recurrence this API does not take (the message says why): invalid input of the
    `recurrence` field."""

    def __init__(self, message: str):
        super().__init__(message, field_name="recurrence")


def parts(rule: str) -> dict[str, str]:
    """`KEY=VALUE;…` as a dict of upper-cased keys; RecurrenceInvalid for repeated or empty
    parts."""
    found = {}
    for part in rule.split(";"):
        key, sign, value = part.partition("=")
        key = key.strip().upper()
        if not sign or not value or key in found:
            raise RecurrenceInvalid(f"Not an RRULE value: {rule!r} (KEY=VALUE;KEY=VALUE).")
        found[key] = value.strip().upper()
    return found


def checked_rule(rule: str, counts_from: str) -> str:
    """The rule, upper-cased, if this API takes it; RecurrenceInvalid otherwise."""
    found = parts(rule)
    allowed = FROM_COMPLETION_PARTS if counts_from == "completion" else PARTS
    refused = sorted(set(found) - allowed)
    if refused:
        raise RecurrenceInvalid(f"Not supported here: {', '.join(refused)}.")
    if found.get("FREQ") not in FREQUENCIES:
        raise RecurrenceInvalid(f"FREQ must be one of {', '.join(FREQUENCIES)}.")
    bounded(found, "INTERVAL", 1, 999)
    bounded(found, "COUNT", 1, 1000)
    if "UNTIL" in found:
        if not UNTIL_DATE.fullmatch(found["UNTIL"]):
            raise RecurrenceInvalid("UNTIL must be a date: YYYYMMDD.")
        if "COUNT" in found:
            raise RecurrenceInvalid("Give COUNT or UNTIL, not both.")
    try:
        occurrences.rule_of(found)
    except ValueError as error:
        raise RecurrenceInvalid(f"Not a valid rule: {error}.") from None
    return ";".join(f"{key}={value}" for key, value in found.items())


def check_reach(rule: str, counts_from: str, start: date) -> None:
    """RecurrenceInvalid unless the rule, from `start`, has an occurrence within REACH and
    each of its completions can be found within the search's budget: the rule's first
    occurrence, and with COUNT its whole series (which each completion counts through)."""
    if counts_from == "completion":
        return
    parsed = occurrences.rule_of(parts(rule))
    try:
        found = occurrences.dates(parsed, start, start)
        first = next(found, None)
        if first is None or first > start + REACH:
            raise RecurrenceInvalid(
                f"The rule has no occurrence in the {REACH.years} years from {start}."
            )
        if parsed.count is not None:
            deque(found, maxlen=0)
    except occurrences.TooCostly:
        raise RecurrenceInvalid(
            "The rule's occurrences are too far apart to be found in reasonable time."
        ) from None


def bounded(found: dict, key: str, low: int, high: int) -> None:
    if key in found and not (NUMBER.fullmatch(found[key]) and low <= int(found[key]) <= high):
        raise RecurrenceInvalid(f"{key} must be an integer from {low} to {high}.")


def next_date(
    rule: str,
    counts_from: str,
    start: date,
    due_date: date,
    due_time: time | None,
    zone_name: str,
    now: datetime,
) -> date | None:
    """The due date after completing the occurrence due on `due_date` at `now`, on the wall
    clocks of `zone_name`; None when the rule has no further occurrence."""
    local_now = now.astimezone(ZoneInfo(zone_name)).replace(tzinfo=None)
    if counts_from == "completion":
        found = parts(rule)
        step = int(found.get("INTERVAL", "1"))
        return local_now.date() + relativedelta(**{STEP[found["FREQ"]]: step})
    wall = due_time or time()
    if due_time is None:  # all-day: a date after the due date and after today
        after = datetime.combine(max(due_date, local_now.date()), time.max)
    else:
        after = max(datetime.combine(due_date, wall), local_now)
    parsed = occurrences.rule_of(parts(rule))
    try:
        return next(
            (
                day
                for day in occurrences.dates(parsed, start, after.date())
                if datetime.combine(day, wall) > after
            ),
            None,
        )
    except occurrences.TooCostly:  # further than a search looks: the series ends here
        return None
