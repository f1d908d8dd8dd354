"""Recurrence rules evaluated with bounded work (todo/tasks/occurrences.py): the same dates as
python-dateutil over random rules, and searches that stop after a budget counted in days looked
at, however the rule is made, from however long ago it started."""

import random
import re
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice

import pytest
from dateutil.rrule import rrulestr

from todo.tasks import occurrences
from todo.tasks.recurrence import next_date, parts

# Rules with no occurrence at all, or none for decades: each walked dateutil to year 9999.
PATHOLOGICAL = [
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=WEEKLY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-366",
    "FREQ=MONTHLY;BYDAY=53WE",
    "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31",
    "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",  # from 2026: never a leap year
    "FREQ=DAILY;BYSETPOS=2",
    "FREQ=WEEKLY;BYDAY=MO,2TU;BYSETPOS=3",
    "FREQ=DAILY;INTERVAL=7;BYDAY=TU",  # from a Monday: never a Tuesday
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=5",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;UNTIL=29991231",
]
MONDAY = date(2026, 1, 5)


def random_rule(rng: random.Random) -> str:
    freq = rng.choice(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"])
    chosen = [f"FREQ={freq}"]
    if rng.random() < 0.4:
        chosen.append(f"INTERVAL={rng.choice([1, 2, 3, 5, 7, 12])}")
    if rng.random() < 0.4:
        ordinals = (
            ["", "", "1", "2", "-1", "3", "-2", "20"] if freq in ("MONTHLY", "YEARLY") else [""]
        )
        days = (rng.choice(ordinals) + rng.choice(occurrences.WEEKDAYS) for _ in range(3))
        chosen.append("BYDAY=" + ",".join(islice(days, rng.randint(1, 3))))
    if rng.random() < 0.35:
        monthdays = [1, 2, 13, 15, 28, 29, 30, 31, -1, -2]
        chosen.append(f"BYMONTHDAY={rng.choice(monthdays)},{rng.choice(monthdays)}")
    if rng.random() < 0.3:
        chosen.append(f"BYMONTH={rng.randint(1, 12)},{rng.randint(1, 12)}")
    if rng.random() < 0.25:
        chosen.append(f"BYSETPOS={rng.choice([1, 2, -1, -2, 3])}")
    if rng.random() < 0.2:
        chosen.append(f"WKST={rng.choice(occurrences.WEEKDAYS)}")
    if rng.random() < 0.2:
        chosen.append(f"COUNT={rng.randint(1, 40)}")
    elif rng.random() < 0.2:
        chosen.append(f"UNTIL={rng.randint(2000, 2060)}0{rng.randint(1, 9)}15")
    return ";".join(chosen)


def dateutil_dates(rule: str, start: date, since: date, count: int) -> list[date]:
    rule = re.sub(r"UNTIL=([0-9]{8})", r"UNTIL=\1T235959", rule)
    found = rrulestr(f"RRULE:{rule}", dtstart=datetime.combine(start, time()))
    after = found.xafter(datetime.combine(since, time()), count=count, inc=True)
    return [each.date() for each in after]


def test_the_dates_are_dateutils_over_random_rules():
    """Compared where dateutil ends: the dates we find (up to 25), which COUNT, UNTIL or the
    last due date may cut short. A rule with none, or whose search runs out of budget, would
    walk dateutil to year 9999: the tests below check those."""
    rng = random.Random(20261207)
    compared = 0
    for _ in range(800):
        rule = random_rule(rng)
        start = date(rng.randint(1995, 2035), rng.randint(1, 12), rng.randint(1, 31) % 28 + 1)
        since = start + timedelta(days=rng.choice([0, 0, 1, 40, 400, 3000]))
        searched = occurrences.dates(occurrences.rule_of(parts(rule)), start, since)
        try:
            ours = list(islice((day for day in searched if day >= since), 25))
        except occurrences.TooCostly:
            continue
        if not ours:  # none, where dateutil would walk to year 9999 to say so
            continue
        try:
            theirs = dateutil_dates(rule, start, since, len(ours))
        except IndexError:  # dateutil's own bug with some ordinal weekdays
            continue
        assert ours == theirs, (rule, start, since)
        compared += 1
    assert compared > 550


@pytest.fixture
def days_looked_at(monkeypatch):
    """How many days the searches looked at (each period counts one, and each of its days)."""
    looked = []
    period = occurrences.period

    def counted(rule, start, index):
        opens, days = period(rule, start, index)
        looked.append(1 + len(days))
        return opens, days

    monkeypatch.setattr(occurrences, "period", counted)
    return looked


@pytest.mark.parametrize("rule", PATHOLOGICAL)
def test_a_search_for_a_date_that_does_not_come_stops_within_the_budget(rule, days_looked_at):
    """It runs out of budget, or (a yearly rule looks at a few days a year) past the last
    due date a task may have."""
    search = occurrences.dates(occurrences.rule_of(parts(rule)), MONDAY, MONDAY)
    try:
        assert next(search, None) is None
    except occurrences.TooCostly:
        assert sum(days_looked_at) > occurrences.BUDGET
    assert sum(days_looked_at) <= occurrences.BUDGET + 367


@pytest.mark.parametrize("rule", PATHOLOGICAL)
def test_completing_a_pathological_rule_stored_before_ends_its_series_within_the_budget(
    rule, days_looked_at
):
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert next_date(rule, "due", MONDAY, MONDAY, None, "UTC", now) is None
    assert sum(days_looked_at) <= occurrences.BUDGET + 367


def test_an_old_start_costs_a_search_no_more_than_a_new_one(days_looked_at):
    """Without COUNT, the search starts at the period of the date asked for."""
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    start = date(1900, 1, 1)
    assert next_date("FREQ=DAILY", "due", start, start, None, "UTC", now) == date(2026, 6, 2)
    assert next_date("FREQ=WEEKLY;INTERVAL=3", "due", start, start, None, "UTC", now) == date(
        2026, 6, 8
    )
    assert sum(days_looked_at) < 40
