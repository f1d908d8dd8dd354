"""The dates a recurrence rule gives, found with a bounded amount of work.

python-dateutil's rrule expands RFC 5545 rules well, but its search for a next occurrence
cannot be bounded from outside: it walks period after period until one matches, and a rule
that never matches (`FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30`) walks on to year 9999, 5-16 s of
CPU per completion (dateutil issues #1393 and #1441 ask for a limit). This module expands the
rules this API takes (recurrence.PARTS) the way dateutil does (tests/test_occurrences.py
compares the two over thousands of rules), counting what it looks at: one search looks at
BUDGET days at most (else TooCostly), never past LAST_DATE (the last due date a task may
have), and a rule without COUNT is searched from the period of the date asked for, not from
its start, so an old start costs nothing.
"""

from calendar import monthrange
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from itertools import count as from_index

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
LAST_DATE = date(2999, 12, 31)
# Days (and periods) one search may look at: ~55 years of a daily rule, 10-20 ms.
BUDGET = 20_000


class TooCostly(Exception):
    """A search looked at BUDGET days without finding what it looked for."""


@dataclass(frozen=True)
class Rule:
    """A rule's parts as numbers: weekdays 0 (Monday) to 6, negative month days counted from
    the month's end (-1 its last day), ordinal weekdays as (weekday, n)."""

    freq: str
    interval: int = 1
    months: frozenset = frozenset()
    monthdays: frozenset = frozenset()
    weekdays: frozenset = frozenset()
    nth_weekdays: frozenset = frozenset()
    setpos: tuple = ()
    wkst: int = 0
    count: int | None = None
    until: date | None = None


def numbers(text: str | None, highest: int, signed: bool) -> frozenset:
    """A comma list of integers 1..highest (or -highest..-1 too); ValueError otherwise."""
    found = frozenset(int(item) for item in text.split(",")) if text else frozenset()
    if any(not 0 < (abs(n) if signed else n) <= highest for n in found):
        raise ValueError(f"{text} is out of range")
    return found


def rule_of(parts: dict[str, str]) -> Rule:
    """The rule of upper-cased parts whose names and FREQ, INTERVAL, COUNT and UNTIL
    (`YYYYMMDD`) were checked (recurrence.checked_rule); ValueError for a value off RFC
    5545's grammar. Ordinal weekdays count only in MONTHLY and YEARLY rules, as in dateutil."""
    weekdays, nth = set(), set()
    for item in parts["BYDAY"].split(",") if "BYDAY" in parts else ():
        ordinal, name = item[:-2], item[-2:]
        n = int(ordinal) if ordinal else 0
        if name not in WEEKDAYS or (ordinal and not 0 < abs(n) <= 53):
            raise ValueError(f"{item} is not a weekday such as MO, 2TU or -1FR")
        if n and parts["FREQ"] in ("MONTHLY", "YEARLY"):
            nth.add((WEEKDAYS.index(name), n))
        else:
            weekdays.add(WEEKDAYS.index(name))
    if parts.get("WKST", "MO") not in WEEKDAYS:
        raise ValueError(f"WKST={parts['WKST']} is not a weekday")
    until = parts.get("UNTIL")
    return Rule(
        freq=parts["FREQ"],
        interval=int(parts.get("INTERVAL", 1)),
        months=numbers(parts.get("BYMONTH"), 12, signed=False),
        monthdays=numbers(parts.get("BYMONTHDAY"), 31, signed=True),
        weekdays=frozenset(weekdays),
        nth_weekdays=frozenset(nth),
        setpos=tuple(sorted(numbers(parts.get("BYSETPOS"), 366, signed=True))),
        wkst=WEEKDAYS.index(parts.get("WKST", "MO")),
        count=int(parts["COUNT"]) if "COUNT" in parts else None,
        until=date(int(until[:4]), int(until[4:6]), int(until[6:])) if until else None,
    )


def with_defaults(rule: Rule, start: date) -> Rule:
    """What a rule without BYDAY or BYMONTHDAY takes from its start (RFC 5545, as dateutil
    reads it): a yearly one its month and day, a monthly one its day, a weekly one its
    weekday."""
    if rule.monthdays or rule.weekdays or rule.nth_weekdays or rule.freq == "DAILY":
        return rule
    if rule.freq == "WEEKLY":
        return replace(rule, weekdays=frozenset({start.weekday()}))
    if rule.freq == "YEARLY":
        rule = replace(rule, months=rule.months or frozenset({start.month}))
    return replace(rule, monthdays=frozenset({start.day}))


def dates(rule: Rule, start: date, since: date) -> Iterator[date]:
    """The rule's dates from `start` on, in order, from the first period that may hold one on
    or after `since` (from the first period when COUNT is used, which counts them all); they
    end with the rule, or past LAST_DATE. TooCostly once BUDGET days were looked at."""
    rule = with_defaults(rule, start)
    last = min(rule.until or LAST_DATE, LAST_DATE)
    left, looked = rule.count, 0
    first = 0 if rule.count is not None else first_period(rule, start, since)
    for index in from_index(first):
        opens, days = period(rule, start, index)
        if opens > last:
            return
        looked += 1 + len(days)
        if looked > BUDGET:
            raise TooCostly()
        for day in chosen(rule, days):
            if day > last:
                return
            if day >= start:
                yield day
                if left is not None:
                    left -= 1
                    if not left:
                        return


def first_period(rule: Rule, start: date, since: date) -> int:
    """The index of the period `since` falls in (the periods before it end before it)."""
    if rule.freq == "DAILY":
        periods = (since - start).days
    elif rule.freq == "WEEKLY":
        periods = (since.toordinal() - week_start(rule, start)) // 7
    elif rule.freq == "MONTHLY":
        periods = (since.year - start.year) * 12 + since.month - start.month
    else:
        periods = since.year - start.year
    return max(periods // rule.interval, 0)


def week_start(rule: Rule, day: date) -> int:
    return day.toordinal() - (day.weekday() - rule.wkst) % 7


def period(rule: Rule, start: date, index: int) -> tuple[date, list[date]]:
    """When the rule's `index`th period opens (counted in INTERVALs from the start's), and
    its days that may be occurrences, in order (none once it opens past LAST_DATE). The first
    week opens on the start itself, as dateutil's does."""
    step = index * rule.interval
    if rule.freq in ("DAILY", "WEEKLY"):
        weekly = rule.freq == "WEEKLY"
        first = week_start(rule, start) + step * 7 if weekly else start.toordinal() + step
        if first > LAST_DATE.toordinal():
            return AFTER_THE_LAST, []
        days = [date.fromordinal(first + n) for n in range(7 if weekly else 1)]
        return days[0], [day for day in days if index or day >= start]
    if rule.freq == "MONTHLY":
        year, month = divmod(start.year * 12 + start.month - 1 + step, 12)
        months = (month + 1,)
    else:
        year, months = start.year + step, sorted(rule.months or range(1, 13))
    if year > LAST_DATE.year:
        return AFTER_THE_LAST, []
    return date(year, months[0], 1), [
        day for month in months for day in month_days(rule, year, month)
    ]


def month_days(rule: Rule, year: int, month: int) -> list[date]:
    """The days of a month that may be occurrences, in order: those BYMONTHDAY names, else
    those of the weekdays BYDAY names, else all (none in a month BYMONTH leaves out)."""
    if rule.months and month not in rule.months:
        return []
    length = monthrange(year, month)[1]
    if rule.monthdays:
        numbers = {n if n > 0 else length + 1 + n for n in rule.monthdays}
    elif rule.weekdays or rule.nth_weekdays:
        first = date(year, month, 1).weekday()
        weekdays = rule.weekdays | {weekday for weekday, _ in rule.nth_weekdays}
        numbers = {
            n for weekday in weekdays for n in range(1 + (weekday - first) % 7, length + 1, 7)
        }
    else:
        numbers = range(1, length + 1)
    return [date(year, month, n) for n in sorted(numbers) if 0 < n <= length]


def chosen(rule: Rule, days: list[date]) -> list[date]:
    """The days of a period that every BY part keeps, then those BYSETPOS picks."""
    kept = [day for day in days if matches(rule, day)]
    if not rule.setpos:
        return kept
    picked = {kept[n - 1 if n > 0 else n] for n in rule.setpos if -len(kept) <= n <= len(kept)}
    return sorted(picked)


def matches(rule: Rule, day: date) -> bool:
    if rule.months and day.month not in rule.months:
        return False
    if rule.weekdays and day.weekday() not in rule.weekdays:
        return False
    if rule.nth_weekdays and not any(
        day.weekday() == weekday and nth(rule, day, n) for weekday, n in rule.nth_weekdays
    ):
        return False
    if rule.monthdays:
        length = monthrange(day.year, day.month)[1]
        return day.day in rule.monthdays or day.day - length - 1 in rule.monthdays
    return True


def nth(rule: Rule, day: date, n: int) -> bool:
    """Whether `day` is the `n`th of its weekday (-1: the last) in its month, or in its year
    for a yearly rule without BYMONTH."""
    if rule.freq == "YEARLY" and not rule.months:
        position = day.toordinal() - date(day.year, 1, 1).toordinal()
        length = 366 if monthrange(day.year, 2)[1] == 29 else 365
    else:
        position, length = day.day - 1, monthrange(day.year, day.month)[1]
    return position // 7 + 1 == n if n > 0 else (length - 1 - position) // 7 + 1 == -n


AFTER_THE_LAST = date(LAST_DATE.year + 1, 1, 1)
