"""Reads a calendar on stdin with recurring-ical-events and prints, as JSON, each recurring
VTODO's occurrences from the first date given to the second (both included), by UID: the
dates each occurrence is due."""

import json
import sys
from datetime import date, datetime, timedelta

import icalendar
import recurring_ical_events

calendar = icalendar.Calendar.from_ical(sys.stdin.read())
start, end = (date.fromisoformat(argument) for argument in sys.argv[1:3])
found = {}
for todo in recurring_ical_events.of(calendar, components=["VTODO"]).between(
    start, end + timedelta(days=1)
):
    due = todo.get("due") or todo["dtstart"]
    day = due.dt.date() if isinstance(due.dt, datetime) else due.dt
    found.setdefault(str(todo["uid"]), []).append(day.isoformat())
print(json.dumps({uid: sorted(days) for uid, days in found.items()}))
