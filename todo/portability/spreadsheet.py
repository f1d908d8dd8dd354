"""Tasks as CSV: our own columns (written and read back), and the cells made safe to open in
a spreadsheet: a cell starting with = + - @, a tab or a carriage return (what a spreadsheet
would run as a formula, CWE-1236) or with ' gets a leading ', which a read takes off again."""

import csv
import io
import json
from collections.abc import Iterable, Iterator

from .calendar import as_list
from .items import ImportInvalid, Item, Parsed, formulas, task_id

COLUMNS = (
    *("id", "title", "description", "completed", "completed_at", "priority"),
    *("due_date", "due_time", "due_timezone", "recurrence_rule", "recurrence_from"),
    *("reminders", "labels", "list_id", "parent_id", "position", "created_at", "updated_at"),
)
# Read back on import; the others are written for people (and list_id: an import puts the
# tasks in the list it is given).
READ = frozenset({*COLUMNS[:12], "labels", "parent_id", "position"})
UNSAFE = ("=", "+", "-", "@", "\t", "\r", "'")
TRUE, FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no", ""})
csv.field_size_limit(64 * 1024)  # a cell past this is a 422 (a description holds 10,000)


def safe(value) -> str:
    text = "" if value is None else value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(UNSAFE) else text


def unescaped(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(UNSAFE) else text


def cells(row) -> list[str]:
    """A task (a row of models.ANSWER_ROW) as our CSV's cells."""
    values = {
        "completed": "true" if row.completed else "false",
        "reminders": json.dumps(reminders_written(as_list(row.reminders))) if row.reminders else "",
        "labels": json.dumps(as_list(row.labels), ensure_ascii=False),
        "due_time": None if row.due_time is None else row.due_time.isoformat("seconds"),
    }
    return [safe(values[name] if name in values else getattr(row, name)) for name in COLUMNS]


def reminders_written(reminders: list[dict]) -> list[dict]:
    return [{"before": r["before"]} if r["before"] else {"at": r["at"]} for r in reminders]


def lines(pages: Iterable[list]) -> Iterator[bytes]:
    """The CSV of pages of tasks, a page at a time (with a byte order mark, which tells a
    spreadsheet the file is UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield ("\ufeff" + out.getvalue()).encode()
    for page in pages:
        out.seek(0)
        out.truncate()
        writer.writerows(cells(row) for row in page)
        yield out.getvalue().encode()


def rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """The records of a CSV with the line each starts on; ImportInvalid where it breaks."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for record in reader:
            yield line, record
            line = reader.line_num + 1
    except csv.Error as error:
        raise ImportInvalid(f"line {reader.line_num}", f"not CSV ({error})") from None


def parsed(header: list[str], records: Iterator[tuple[int, list[str]]]) -> Parsed:
    """Our CSV's tasks (the header names the columns, in any order; unknown ones are
    counted as ignored)."""
    found = Parsed("csv")
    names = [name.strip().lower() for name in header]
    for name in names:
        if name not in COLUMNS:
            found.ignore(f"column {name or '(unnamed)'}")
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue
        raw = {n: c for n, c in zip(names, record, strict=False) if n in READ}
        if formulas(f"line {line}", raw, found):  # an escaped one (') is text
            continue
        values = {name: unescaped(cell) for name, cell in raw.items()}
        found.add(item_of(f"line {line}", values, found))
    return found


def item_of(where: str, values: dict, found: Parsed) -> Item:
    task_name = values.get("id") or f"csv {where} {values.get('title', '')}"
    item = Item(where, {"id": str(task_id(task_name)), "title": values.get("title", "").strip()})
    task = item.task
    if values.get("description"):
        task["description"] = values["description"]
    completed = values.get("completed", "").strip().lower()
    task["completed"] = completed in TRUE if completed in TRUE | FALSE else completed
    priority = values.get("priority", "").strip() or "0"
    task["priority"] = int(priority) if priority.isdigit() else priority
    if values.get("due_date"):
        task["due"] = {"date": values["due_date"]}
        for member in ("time", "timezone"):
            if values.get(f"due_{member}"):
                task["due"][member] = values[f"due_{member}"]
    if values.get("recurrence_rule"):
        task["recurrence"] = {"rule": values["recurrence_rule"]}
        if values.get("recurrence_from"):
            task["recurrence"]["from"] = values["recurrence_from"]
    for name in ("reminders", "labels"):
        if values.get(name):
            try:
                task[name] = json.loads(values[name])
            except ValueError:
                found.problem(where, name, "Not a JSON array (as an export writes it).")
    for name in ("parent_id", "position"):
        if values.get(name):
            task[name] = values[name]
    return item
