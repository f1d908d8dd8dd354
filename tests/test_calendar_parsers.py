"""Real parsers agree with the calendars the API exports: every VTODO of every task shape reads
the same in `icalendar` (PyPI) and in ical.js (npm, the parser Thunderbird uses), and both
say what the API says of the task; each supported rule's occurrences, expanded from the
export by ical.js, by `recurring-ical-events` (PyPI, in a virtual environment of its own:
tests/clients/recurring) and by python-dateutil, are the due dates the API moves a task to
as it is completed, over two years."""

import json
import subprocess
import sys
from datetime import date, datetime, time, timedelta

import icalendar
import pytest
from dateutil.rrule import rrulestr

from tests.node import CLIENTS, installed
from tests.test_due import create, listed
from tests.test_portability import with_every_shape

PRIORITIES = {0: None, 1: 9, 2: 5, 3: 1}


def read_by_icaljs(text: str, until: date | None = None) -> dict[str, dict]:
    package = installed(CLIENTS / "ical")
    arguments = ["node", "parse.mjs", *([until.isoformat()] if until else [])]
    ran = subprocess.run(
        arguments, cwd=package, input=text, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    return {entry["uid"]: entry for entry in json.loads(ran.stdout)}


RECURRING = CLIENTS / "recurring"


def recurring_python() -> str:
    """The Python of recurring-ical-events' own environment, made as `make test` makes it
    when it is not there yet."""
    python = RECURRING / ".venv" / "bin" / "python"
    if not (RECURRING / ".venv" / ".installed").exists():
        for arguments in (
            [sys.executable, "-m", "venv", "--clear", str(RECURRING / ".venv")],
            [str(python), "-m", "pip", "install", "-q", "-r", str(RECURRING / "requirements.txt")],
        ):
            done = subprocess.run(arguments, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, done.stderr
        (RECURRING / ".venv" / ".installed").touch()
    return str(python)


def read_by_recurring_ical_events(text: str, start: date, end: date) -> dict[str, list[str]]:
    """Each recurring VTODO's due dates from `start` to `end`, by UID."""
    arguments = [recurring_python(), "occurrences.py", start.isoformat(), end.isoformat()]
    ran = subprocess.run(
        arguments, cwd=RECURRING, input=text, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


def wall(value) -> tuple[str, bool, str | None]:
    """A date or date-time as (ISO wall text, all-day, zone): both parsers' values, alike."""
    if isinstance(value, dict):  # ical.js
        zone = None if value["zone"] == "floating" else value["zone"]
        return value["text"].removesuffix("Z"), value["isDate"], "UTC" if zone == "Z" else zone
    if not isinstance(value, datetime):
        return value.isoformat(), True, None
    zone = getattr(value.tzinfo, "key", None) or (value.tzinfo and "UTC")
    return value.replace(tzinfo=None).isoformat(), False, zone


def api_due(task: dict):
    due = task["due"]
    if due is None:
        return None
    if due["time"] is None:
        return due["date"], True, None
    return f"{due['date']}T{due['time']}:00"[:19], False, due["timezone"]


def rule_parts(text: str | None) -> dict | None:
    return text and dict(part.split("=", 1) for part in text.split(";"))


def test_every_exported_vtodo_reads_the_same_in_both_parsers_and_the_api(client, user):
    with_every_shape(client, user)
    answer = client.get(f"/api/{user['user_id']}/export/calendar", headers=user["headers"])
    text = answer.get_data(as_text=True)
    by_icaljs = read_by_icaljs(text)
    by_icalendar = {str(e["uid"]): e for e in icalendar.Calendar.from_ical(text).walk("VTODO")}
    tasks = {task["id"]: task for task in listed(client, user)}
    assert by_icaljs.keys() == by_icalendar.keys() == tasks.keys()
    for uid, task in tasks.items():
        js, py = by_icaljs[uid], by_icalendar[uid]
        assert js["summary"] == str(py["summary"]) == task["title"]
        assert js["description"] == (py.get("description") and str(py["description"]))
        assert js["description"] == task["description"]
        due = api_due(task)
        assert (wall(js["due"]) if js["due"] else None) == due
        assert (wall(py["due"].dt) if "due" in py else None) == due
        assert (
            js["status"]
            == str(py["status"])
            == ("COMPLETED" if task["completed"] else "NEEDS-ACTION")
        )
        assert js["priority"] == (py.get("priority")) == PRIORITIES[task["priority"]]
        categories = [str(c) for each in [py.get("categories")] if each for c in each.cats]
        assert js["categories"] == categories == task["labels"]
        assert js["parent"] == (py.get("related-to") and str(py["related-to"])) == task["parent_id"]
        assert rule_parts(js["rrule"]) == rule_parts(
            py.get("rrule") and py["rrule"].to_ical().decode()
        )
        alarms = [alarm["trigger"] for alarm in py.walk("VALARM")]
        assert len(js["alarms"]) == len(alarms) == len(task["reminders"])
        for reminder, from_js, from_py in zip(task["reminders"], js["alarms"], alarms, strict=True):
            if reminder["before"] is not None:
                assert from_js["related"] == "END" and from_py.params["RELATED"] == "END"
                assert -from_py.dt == timedelta(0) or from_js["value"].startswith("-")
            else:
                instant = reminder["at"].replace(".000000", "")
                assert from_js["value"] == instant
                assert from_py.dt.isoformat().replace("+00:00", "Z") == instant


# Every part of a rule the API takes, with a start each rule's own occurrences begin on.
RULES = [
    ("FREQ=DAILY;INTERVAL=5", {"date": "2026-12-08"}),
    ("FREQ=WEEKLY;BYDAY=MO,TH", {"date": "2026-12-10"}),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU", {"date": "2026-12-08"}),
    ("FREQ=MONTHLY;BYMONTHDAY=31", {"date": "2026-12-31"}),
    ("FREQ=MONTHLY;BYMONTHDAY=-1", {"date": "2026-12-31", "time": "18:00"}),
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", {"date": "2026-12-31"}),
    ("FREQ=MONTHLY;BYDAY=2SU", {"date": "2026-12-13"}),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1", {"date": "2027-02-28"}),
    (
        "FREQ=YEARLY;BYMONTH=3,10;BYDAY=-1SU",
        {"date": "2027-03-28", "time": "02:30", "timezone": "Europe/Paris"},
    ),
    ("FREQ=DAILY;INTERVAL=3;COUNT=10", {"date": "2026-12-08", "time": "07:15"}),
    (
        "FREQ=WEEKLY;UNTIL=20270301",
        {"date": "2026-12-08", "time": "23:30", "timezone": "America/New_York"},
    ),
]


def api_occurrences(client, user, task: dict, end: date) -> list[str]:
    """The due dates the API moves the task to, completion after completion, up to `end`."""
    found, url = [task["due"]["date"]], f"/api/{user['user_id']}/tasks/{task['id']}/complete"
    while True:
        task = client.patch(url, json={"completed": True}, headers=user["headers"]).get_json()
        if task["completed"] or date.fromisoformat(task["due"]["date"]) > end:
            return found
        found.append(task["due"]["date"])


def dateutil_occurrences(entry, end: date) -> list[str]:
    start = entry["dtstart"].dt
    if not isinstance(start, datetime):
        start = datetime.combine(start, time())
    rule = rrulestr(entry["rrule"].to_ical().decode(), dtstart=start)
    last = datetime.combine(end, time.max).replace(tzinfo=start.tzinfo)
    return [each.date().isoformat() for each in rule.between(start, last, inc=True)]


@pytest.mark.parametrize(("rule", "due"), RULES, ids=[rule for rule, _ in RULES])
def test_occurrences_from_the_export_are_the_apis_over_two_years(client, user, rule, due):
    task = create(client, user, title="Recurring", due=due, recurrence={"rule": rule})
    answer = client.get(f"/api/{user['user_id']}/export/calendar", headers=user["headers"])
    text = answer.get_data(as_text=True)
    end = date.fromisoformat(due["date"]) + timedelta(days=731)
    [entry] = icalendar.Calendar.from_ical(text).walk("VTODO")
    # ical.js stops before its bound: a date, which sorts before that day's times.
    by_icaljs = read_by_icaljs(text, end + timedelta(days=1))[task["id"]]["occurrences"]
    by_icaljs = [day for day in by_icaljs if date.fromisoformat(day) <= end]
    start = date.fromisoformat(due["date"])
    by_recurring = read_by_recurring_ical_events(text, start, end)[task["id"]]
    expected = api_occurrences(client, user, task, end)
    assert len(expected) >= 2
    assert by_icaljs == expected
    assert by_recurring == expected
    assert dateutil_occurrences(entry, end) == expected
