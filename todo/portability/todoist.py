"""Todoist's CSV template (its documented columns: TYPE, CONTENT, DESCRIPTION, PRIORITY,
INDENT, AUTHOR, RESPONSIBLE, DATE, DATE_LANG, TIMEZONE, and the newer DURATION,
DURATION_UNIT, DEADLINE, DEADLINE_LANG) read into tasks. What has no place here is reported
on its row, never dropped silently: sections, comments (notes), people, dates in words,
sub-sub-tasks (flattened to one level), durations and deadlines."""

import re
from collections.abc import Iterator

from .items import Item, Parsed, formulas, task_id

# Todoist's PRIORITY: 1 is p1, the highest; an empty cell is p1 too (its documented rule).
PRIORITY = {"1": 3, "2": 2, "3": 1, "4": 0, "": 3}
LABEL = re.compile(r"(?<!\S)@([^\s@]+)")
DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?))?")
KNOWN = {"TYPE", "CONTENT", "DESCRIPTION", "PRIORITY", "INDENT", "DATE", "DATE_LANG", "TIMEZONE"}


def is_todoist(header: list[str]) -> bool:
    names = {name.strip().upper() for name in header}
    return {"TYPE", "CONTENT"} <= names


def parsed(header: list[str], records: Iterator[tuple[int, list[str]]]) -> Parsed:
    found = Parsed("todoist-csv")
    names = [name.strip().upper() for name in header]
    last_top: str | None = None
    last: Item | None = None
    for line, record in records:
        values = dict(zip(names, record, strict=False))
        if formulas(f"line {line}", values, found):
            continue
        kind = values.get("TYPE", "").strip()
        if not any(cell.strip() for cell in record):
            continue
        if kind == "task":
            last = task_item(f"line {line}", values, last_top)
            found.add(last)
            if "parent_id" not in last.task:
                last_top = last.task["id"]
        elif kind == "note" and last is not None:
            last.warnings.append(
                f"The comment on line {line} is not imported: tasks here have none."
            )
            found.ignore("note")
        else:
            found.ignore(kind or "(no TYPE)")
    return found


def task_item(where: str, values: dict, last_top: str | None) -> Item:
    content = values.get("CONTENT", "")
    labels = LABEL.findall(content)
    title = " ".join(LABEL.sub("", content).split())
    item = Item(where, {"id": str(task_id(f"todoist {where} {content}")), "title": title})
    task = item.task
    if labels:
        task["labels"] = labels
    if values.get("DESCRIPTION", "").strip():
        task["description"] = values["DESCRIPTION"]
    priority = values.get("PRIORITY", "").strip()
    task["priority"] = PRIORITY.get(priority, priority)
    indent = values.get("INDENT", "").strip() or "1"
    if indent != "1":
        if last_top is None or not indent.isdigit():
            item.warnings.append(f"INDENT {indent} without a task above it: a top-level task.")
        else:
            task["parent_id"] = last_top
            if indent != "2":
                item.warnings.append(f"INDENT {indent}: subtasks go one level deep here.")
    read_date(values, item)
    for name, value in values.items():
        if value.strip() and name not in KNOWN:
            item.warnings.append(f"{name} is not imported ({value.strip()!r}).")
    return item


def read_date(values: dict, item: Item) -> None:
    """DATE as a due date when it is one (YYYY-MM-DD, with a time, in TIMEZONE if given);
    a date in words ("every monday", "tomorrow") is Todoist's own language: reported."""
    text = values.get("DATE", "").strip()
    if not text:
        return
    found = DAY.fullmatch(text)
    if found is None:
        item.warnings.append(f"DATE {text!r} is in words: not imported (give YYYY-MM-DD).")
        return
    day, wall = found.groups()
    item.task["due"] = {"date": day}
    if wall:
        item.task["due"]["time"] = wall
        if values.get("TIMEZONE", "").strip():
            item.task["due"]["timezone"] = values["TIMEZONE"].strip()
