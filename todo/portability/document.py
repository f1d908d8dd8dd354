"""The whole-account export: one JSON document, versioned (`{"format": "todo-export",
"version": 1, …}`), of everything a user owns: the account's settings, lists, labels, tasks
(the trash's too) and the completion history; never a password hash, a token or a secret.
Written a page at a time (`chunks`), so its size costs no memory; read back by `parsed`."""

import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime

import orjson

from ..columns import utcnow
from ..tasks.schemas import TaskSchema
from ..timestamps import utc_text
from .items import ImportInvalid, Item, Parsed, task_id

FORMAT, VERSION = "todo-export", 1
TASK = TaskSchema()
# What a task of the export carries into an import (the rest is the server's: ids of the
# user, versions, the instants of changes, counts).
CARRIED = ("title", "description", "completed", "priority", "labels", "position", "parent_id")
SECTIONS = ("lists", "labels", "tasks", "completions")


def plain(value):
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def entries(section: str, rows: list) -> list[dict]:
    if section == "tasks":
        return TASK.dump(rows, many=True)
    return [{name: plain(value) for name, value in row._mapping.items()} for row in rows]


def chunks(account, pages: Callable) -> Iterator[bytes]:
    """The document, a page of rows at a time; `pages(section)` gives a section's pages."""
    head = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": utc_text(utcnow()),
        "account": {
            "user_id": str(account.id),
            "email": account.email,
            "created_at": utc_text(account.created_at),
        },
        "settings": {"timezone": account.timezone},
    }
    yield orjson.dumps(head)[:-1]
    for section in SECTIONS:
        yield b',"' + section.encode() + b'":['
        lead = b""
        for rows in pages(section):
            yield lead + b",".join(orjson.dumps(entry) for entry in entries(section, rows))
            lead = b","
        yield b"]"
    yield b"}"


def parsed(body: bytes) -> Parsed:
    """Our export's lists and tasks as items (tasks in the trash and the completion history
    counted, not imported); ImportInvalid for another document."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ImportInvalid(f"byte {error.pos}", f"not JSON ({error.msg})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportInvalid("the document", f'not a {FORMAT} document ("format")')
    if document.get("version") != VERSION:
        raise ImportInvalid("version", f"only version {VERSION} is known")
    found = Parsed(FORMAT)
    for index, each in enumerate(array(document, "lists")):
        if isinstance(each, dict) and each.get("deleted_at") is None:
            found.lists.append(list_of(f"lists[{index}]", each))
    for index, each in enumerate(array(document, "tasks")):
        where = f"tasks[{index}]"
        if not isinstance(each, dict):
            found.problem(where, None, "not an object")
        elif each.get("deleted_at") is not None:
            found.ignore("task in the trash")
        else:
            found.add(Item(where, task_of(where, each)))
    for _ in array(document, "completions"):
        found.ignore("completion history entry")
    return found


def array(document: dict, section: str) -> list:
    value = document.get(section, [])
    if not isinstance(value, list):
        raise ImportInvalid(section, "not an array")
    return value


def list_of(where: str, entry: dict) -> dict:
    try:
        return {
            "id": uuid.UUID(str(entry["id"])),
            "name": str(entry["name"]),
            "position": str(entry.get("position") or "a0"),
            "where": where,
        }
    except (KeyError, ValueError):
        raise ImportInvalid(where, "a list needs its id and name") from None


def task_of(where: str, entry: dict) -> dict:
    """A task of the export as a request body writes it (an id it lacks made from where it
    is, so a second import names the same task)."""
    task = {name: entry[name] for name in CARRIED if name in entry}
    task["id"] = entry.get("id") or str(task_id(f"{FORMAT} {where} {entry.get('title')}"))
    if entry.get("list_id") is not None:
        task["list_id"] = entry["list_id"]
    due = entry.get("due")
    if isinstance(due, dict):
        task["due"] = {k: v for k, v in due.items() if k in ("date", "time", "timezone")}
    recurrence = entry.get("recurrence")
    if isinstance(recurrence, dict):
        task["recurrence"] = {k: v for k, v in recurrence.items() if k in ("rule", "from")}
    reminders = entry.get("reminders")
    if isinstance(reminders, list):
        task["reminders"] = [
            {"before": r["before"]} if r.get("before") else {"at": r.get("at")}
            for r in reminders
            if isinstance(r, dict)
        ]
    kept = ("description", "parent_id")
    return {name: value for name, value in task.items() if value is not None or name in kept}
