"""Tasks as iCalendar (RFC 5545), written and read with the `icalendar` package.

A task is a VTODO: UID its id, SUMMARY, DESCRIPTION, DUE in its three forms (VALUE=DATE;
a DATE-TIME with TZID, whose VTIMEZONE the calendar carries; a floating DATE-TIME), RRULE
(with DTSTART at the due date, which RFC 5545 counts a rule from), STATUS and COMPLETED,
PRIORITY (3 high -> 1, 2 medium -> 5, 1 low -> 9, none: no PRIORITY; read back 1-4 high,
5 medium, 6-9 low), CATEGORIES its labels, RELATED-TO;RELTYPE=PARENT its parent, a VALARM
per reminder (TRIGGER;RELATED=END before the due date, or an absolute TRIGGER). What
iCalendar cannot say, a rule counted from each completion, rides in X-TODO-RECURRENCE-FROM.
A calendar is written a task at a time (`header`, `component`, `footer`), so a long one is
streamed.
"""

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta

import icalendar

from ..tasks import due as dues
from ..tasks.reminders import duration
from .items import ImportInvalid, Item, Parsed, duration_text, task_id

PRODID = "-//todo//portability//EN"
TO_PRIORITY = {3: 1, 2: 5, 1: 9}
FROM_COMPLETION = "X-TODO-RECURRENCE-FROM"
MOST_LINES = 400_000  # a calendar with more is refused unread
MOST_LINE_LENGTH = 100_000  # characters of a line unfolded (a description holds 10,000)
MOST_DEPTH = 3  # VCALENDAR > VTODO > VALARM
MOST_COMPONENT_LINES = 200  # a task's lines, its five alarms' included
MOST_CALENDAR_LINES = 100  # the calendar's own properties


def header(name: str | None = None) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    if name is not None:
        lines.append(icalendar.vText(name).to_ical().decode().join(("X-WR-CALNAME:", "")))
    return ("\r\n".join(lines) + "\r\n").encode()


def footer(zones: set[str]) -> bytes:
    """The VTIMEZONE of every zone the calendar's due dates named, and its end."""
    parts = [icalendar.Timezone.from_tzid(name).to_ical() for name in sorted(zones)]
    return b"".join(parts) + b"END:VCALENDAR\r\n"


def pieces(pages: Iterable[list], name: str, events: bool = False) -> Iterator[bytes]:
    """A calendar named `name` of pages of tasks, a page at a time."""
    zones: set[str] = set()
    yield header(name)
    for page in pages:
        yield b"".join(component(row, zones, events) for row in page)
    yield footer(zones)


def due_value(row) -> date | datetime | None:
    """A row's due date as iCalendar holds it: a date, a zoned or a floating date-time."""
    if row.due_date is None:
        return None
    if row.due_time is None:
        return row.due_date
    wall = datetime.combine(row.due_date, row.due_time)
    return wall if row.due_timezone is None else wall.replace(tzinfo=dues.zone(row.due_timezone))


def stamp(text_or_time) -> datetime:
    if isinstance(text_or_time, str):
        return datetime.fromisoformat(text_or_time.replace("Z", "+00:00"))
    return text_or_time


def as_list(value) -> list:
    return json.loads(value) if isinstance(value, str) else value


def component(row, zones: set[str], events: bool = False) -> bytes:
    """One task (a row of models.ANSWER_ROW) as a VTODO, or as a VEVENT for calendars that
    show only events (an all-day task an all-day event); the zones its dates name are added
    to `zones`."""
    entry = icalendar.Event() if events else icalendar.Todo()
    entry.add("uid", row.id)
    entry.add("dtstamp", stamp(row.updated_at))
    entry.add("created", stamp(row.created_at))
    entry.add("last-modified", stamp(row.updated_at))
    entry.add("summary", row.title)
    if row.description:
        entry.add("description", row.description)
    due = due_value(row)
    if row.due_timezone is not None:
        zones.add(row.due_timezone)
    if events:
        entry.add("dtstart", due)
        entry.add("dtend", ends(due))
    elif due is not None:
        entry.add("due", due)
    if row.recurrence_rule is not None:
        if not events:
            entry.add("dtstart", due)
        entry.add("rrule", icalendar.vRecur.from_ical(rule_for(row.recurrence_rule, due)))
        if row.recurrence_from == "completion":
            entry.add(FROM_COMPLETION, "completion")
    if not events:
        entry.add("status", "COMPLETED" if row.completed else "NEEDS-ACTION")
        if row.completed_at is not None:
            entry.add("completed", stamp(row.completed_at).astimezone(UTC))
    if row.priority:
        entry.add("priority", TO_PRIORITY[row.priority])
    labels = as_list(row.labels)
    if labels:
        entry.add("categories", labels)
    if row.parent_id is not None:
        entry.add("related-to", row.parent_id, parameters={"RELTYPE": "PARENT"})
    for reminder in as_list(row.reminders):
        entry.add_component(alarm(reminder, row.title, events))
    return entry.to_ical()


def ends(start: date | datetime) -> date | datetime:
    """An event's end: a zero-length event at a time; an all-day one ends the next day."""
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def alarm(reminder: dict, title: str, events: bool) -> icalendar.Alarm:
    found = icalendar.Alarm()
    found.add("action", "DISPLAY")
    found.add("description", title)
    if reminder["before"] is not None:
        before = -duration(reminder["before"])
        found.add("trigger", before, parameters={} if events else {"RELATED": "END"})
    else:
        # VALUE=DATE-TIME: a TRIGGER is a duration unless it says so (RFC 5545 3.8.6.3).
        at = stamp(reminder["at"]).astimezone(UTC)
        found.add("trigger", at, parameters={"VALUE": "DATE-TIME"})
    return found


def rule_for(rule: str, due: date | datetime) -> str:
    """The rule as RFC 5545 has it beside this DTSTART: UNTIL, a date here, is a DATE-TIME
    when the due date is one (the end of that day: in UTC for a zoned one)."""
    parts = dict(part.split("=", 1) for part in rule.split(";"))
    if "UNTIL" in parts and isinstance(due, datetime):
        last = datetime.combine(datetime.strptime(parts["UNTIL"], "%Y%m%d").date(), time.max)
        last = last.replace(microsecond=0)
        if due.tzinfo is None:
            parts["UNTIL"] = last.strftime("%Y%m%dT%H%M%S")
        else:
            at = last.replace(tzinfo=due.tzinfo).astimezone(UTC)
            parts["UNTIL"] = at.strftime("%Y%m%dT%H%M%SZ")
    return ";".join(f"{key}={value}" for key, value in parts.items())


def parsed(text: str) -> Parsed:
    """The VTODOs of a calendar as items (VEVENTs and other components counted, not
    imported); ImportInvalid where it is not a calendar. The text is scanned first, a line
    at a time, for what would make it costly to parse (too many lines, too long a line,
    too deep a nesting), and only its VTODOs are parsed, each on its own: icalendar spends
    ~50 us a line."""
    if text.count("\n") > MOST_LINES:
        raise ImportInvalid("line 1", f"more than {MOST_LINES:,} lines")
    found = Parsed("icalendar")
    for where, block in blocks(text, found):
        try:
            entry = icalendar.Component.from_ical(block)
        except (ValueError, IndexError, KeyError, TypeError) as error:
            raise ImportInvalid(where, f"not iCalendar ({error})") from None
        found.add(todo_item(entry, where, found))
    return found


def blocks(text: str, found: Parsed):
    """(where, text) of each VTODO of a calendar; other components are counted in
    `found.ignored`. ImportInvalid for a text that is no calendar, or a costly one."""
    stack: list[str] = []
    block: list[str] = []
    outside = 0
    length = 0
    for number, line in enumerate(text.splitlines(), 1):
        length = length + len(line) if line[:1] in (" ", "\t") else len(line)
        if length > MOST_LINE_LENGTH:
            raise ImportInvalid(f"line {number}", f"longer than {MOST_LINE_LENGTH:,} characters")
        name = line.partition(":")[2].strip().upper()
        keyword = line[:6].upper()
        if keyword == "BEGIN:":
            stack.append(name)
            if len(stack) > MOST_DEPTH or (len(stack) == 1) != (name == "VCALENDAR"):
                raise ImportInvalid(f"line {number}", f"BEGIN:{name} is not where it may be")
            if len(stack) == 2:
                start, block = number, []
        elif line[:4].upper() == "END:":
            if not stack or stack.pop() != name:
                raise ImportInvalid(f"line {number}", f"END:{name} ends no BEGIN:{name}")
            if len(stack) == 1:
                if name == "VTODO":
                    yield f"line {start} (VTODO)", "\r\n".join([*block, line, ""])
                elif name != "VTIMEZONE":
                    found.ignore(name)
                block = []
                continue
        elif len(stack) == 1 and line.strip():
            outside += 1
            if outside > MOST_CALENDAR_LINES:
                raise ImportInvalid(f"line {number}", "too many lines outside components")
        elif not stack and line.strip():
            raise ImportInvalid(f"line {number}", "a line outside BEGIN:VCALENDAR … END")
        if len(stack) >= 2:
            block.append(line)
            if len(block) > MOST_COMPONENT_LINES:
                raise ImportInvalid(f"line {start}", "a component of too many lines")
    if stack or not outside:
        raise ImportInvalid("the calendar", "not a VCALENDAR (BEGIN:VCALENDAR … END:VCALENDAR)")


def todo_item(entry, where: str, found: Parsed) -> Item:
    uid = str(entry.get("uid", "")) or f"{where} {entry.get('summary', '')}"
    item = Item(f"{where} UID {uid}", {"id": str(task_id(uid))})
    task = item.task
    task["title"] = str(entry.get("summary", "")).strip()
    if "description" in entry:
        task["description"] = str(entry["description"])
    status = str(entry.get("status", "")).upper()
    task["completed"] = status == "COMPLETED" or "completed" in entry
    task["priority"] = from_priority(entry.get("priority"))
    task["labels"] = categories(entry)
    read_due(entry, item, found)
    read_rule(entry, item, found)
    parent = parent_uid(entry)
    if parent is not None:
        task["parent_id"] = str(task_id(parent))
    reminders = [r for alarm in entry.walk("VALARM") if (r := reminder(alarm, item))]
    if reminders:
        task["reminders"] = reminders
    return item


def from_priority(value) -> int:
    try:
        number = int(value or 0)
    except ValueError:
        return 0
    return 0 if not 1 <= number <= 9 else 3 if number <= 4 else 2 if number == 5 else 1


def categories(entry) -> list[str]:
    found = entry.get("categories", [])
    found = found if isinstance(found, list) else [found]
    return [str(name).strip() for each in found for name in each.cats if str(name).strip()]


def parent_uid(entry) -> str | None:
    related = entry.get("related-to")
    for each in related if isinstance(related, list) else [related] if related else []:
        if str(each.params.get("RELTYPE", "PARENT")).upper() == "PARENT":
            return str(each)
    return None


def read_due(entry, item: Item, found: Parsed) -> None:
    if "due" not in entry:
        return
    tzid = entry["due"].params.get("TZID")
    try:
        value = entry.decoded("due")
    except (ValueError, TypeError) as error:
        found.problem(item.where, "due", f"DUE is not a date or date-time ({error})")
        return
    item.task["due"] = due_members(value, tzid)


def due_members(value: date | datetime, tzid: str | None) -> dict:
    """A DUE value as the task routes take a due date: its TZID if it is an IANA name, else
    the IANA zone icalendar resolved it to, else the TZID as written (which their check
    refuses, naming it)."""
    if not isinstance(value, datetime):
        return {"date": value.isoformat()}
    wall = {"date": value.date().isoformat(), "time": value.time().isoformat("seconds")}
    if value.tzinfo is None and tzid is None:
        return wall
    names = [str(tzid)] if tzid else []
    names += [getattr(value.tzinfo, "key", None) or "UTC"] if value.tzinfo is not None else []
    known = [name for name in names if name in dues.zone_names()]
    return {**wall, "timezone": (known or names)[0]}


def read_rule(entry, item: Item, found: Parsed) -> None:
    if "rrule" not in entry:
        return
    rule = entry["rrule"]
    parts = dict(part.split("=", 1) for part in rule.to_ical().decode().split(";"))
    if "UNTIL" in parts:
        parts["UNTIL"] = until_date(rule["UNTIL"][0], entry).strftime("%Y%m%d")
    recurrence = {"rule": ";".join(f"{key}={value}" for key, value in parts.items())}
    if str(entry.get(FROM_COMPLETION, "")).lower() == "completion":
        recurrence["from"] = "completion"
    item.task["recurrence"] = recurrence
    if "due" not in entry:
        found.problem(item.where, "recurrence", "A repeating task needs a DUE date.")


def until_date(value: date | datetime, entry) -> date:
    """UNTIL as the date it ends on: a UTC instant read on the due date's wall clocks."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        zone = getattr(entry.get("due") and entry["due"].dt, "tzinfo", None)
        value = value.astimezone(zone) if zone is not None else value
    return value.date() if isinstance(value, datetime) else value


def reminder(entry, item: Item) -> dict | None:
    trigger = entry.get("trigger")
    if trigger is None:
        return None
    value = trigger.dt
    if isinstance(value, datetime):
        at = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return {"at": at.astimezone(UTC).isoformat().replace("+00:00", "Z")}
    if value > timedelta(0):
        item.warnings.append(f"VALARM after the due date ({value}): not imported")
        return None
    return {"before": duration_text(-value)}
