"""What every import format is read into: items, each a task as a request body would carry
it (loaded by the task routes' own schema, so an import takes exactly what POST …/tasks
takes), where it came from (a line, a component, an index), and what of it could not be
mapped. The ids come from the file (a UID, an id column, a row), so the same file imported
twice names the same tasks."""

import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from marshmallow import ValidationError

from ..errors import by_path
from ..tasks.schemas import NewTaskSchema

# A file with more is a 422: split it. Its new tasks are written at once (bulk.py): 20,000
# take a few seconds (bench/portability.sh).
MOST_TASKS = 20_000
# The namespace of the ids made from a file's own names (a UID that is not a UUID, a row).
NAMESPACE = uuid.UUID("5f0e6a4c-6f1d-4e8b-9a43-2f6f2b1d9c11")
NEW_TASK = NewTaskSchema()
# A cell a spreadsheet would run: a function call or a DDE link (`=cmd|' /C calc'!A0`).
FORMULA = re.compile(r"[=+\-@][A-Za-z][A-Za-z0-9_.]*\s*[(|]")
FORMATS = ("todo-export", "icalendar", "csv", "todoist-csv")


class ImportInvalid(Exception):
    """A file that cannot be read at all (not UTF-8, not JSON, not a calendar, a CSV header
    we do not know): a 422 that says where."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where, self.message = where, message


class TooManyTasks(Exception):
    def __init__(self):
        super().__init__(
            f"An import takes at most {MOST_TASKS:,} tasks: split the file and import each part."
        )


@dataclass
class Item:
    """One task of a file: `task` as a request body carries it (with its `id`), `where` it is
    in the file, and `warnings`: what of it was not imported, and why."""

    where: str
    task: dict
    warnings: list[str] = field(default_factory=list)


@dataclass
class Parsed:
    """A file read: its format, its items in file order, the lists it brings (our JSON
    export: `{id, name, position}`), what it holds that is not imported (counted by kind),
    and the problems found in it (`{where, field, message}`)."""

    format: str
    items: list[Item] = field(default_factory=list)
    lists: list[dict] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)

    def add(self, item: Item) -> None:
        if len(self.items) >= MOST_TASKS:
            raise TooManyTasks()
        self.items.append(item)

    def ignore(self, kind: str) -> None:
        self.ignored[kind] = self.ignored.get(kind, 0) + 1

    def problem(self, where: str, name: str | None, message: str) -> None:
        self.problems.append({"where": where, "field": name, "message": message})


def task_id(name: str) -> uuid.UUID:
    """The id a file's name for a task stands for: itself if it is a UUID (our own exports),
    else one made from it, the same every time."""
    try:
        return uuid.UUID(name)
    except ValueError:
        return uuid.uuid5(NAMESPACE, name)


def formulas(where: str, values: dict, found: Parsed) -> bool:
    """Whether a CSV record holds a formula (CSV injection): a problem of the file, so a
    file that carries one is refused."""
    bad = [name for name, value in values.items() if FORMULA.match(value.lstrip())]
    for name in bad:
        found.problem(where, name, "A spreadsheet formula (CSV injection) is not imported.")
    return bool(bad)


def loaded(parsed: Parsed) -> list[tuple[Item, dict]]:
    """Each item with its task as the task routes' schema loads it; an item it refuses is a
    problem of the file, field by field."""
    found = []
    for item in parsed.items:
        try:
            found.append((item, NEW_TASK.load(item.task)))
        except ValidationError as error:
            for name, messages in by_path(error.messages).items():
                parsed.problem(item.where, name, " ".join(messages))
    return found


BOM = "\ufeff".encode()
BARE_LF, CRLF, ANY_END = re.compile(rb"(?<!\r)\n"), re.compile(rb"\r\n"), re.compile(rb"\r?\n")


def checked(body: bytes, csv: bool) -> bytes:
    """A body whose bytes say one thing only: a byte order mark starts a CSV file at most
    (Excel's "CSV UTF-8" writes one; it is left out), and is nowhere else in any file; its
    lines all end alike, CRLF or LF (in a CSV, its records: a quoted cell may hold an LF,
    as Excel writes one). ImportInvalid naming where it is not."""
    if body.startswith(BOM):
        if not csv:
            raise ImportInvalid("line 1", "a byte order mark (U+FEFF) before the first line")
        body = body[len(BOM) :]
    stray = body.find(BOM)
    if stray >= 0:
        line = body.count(b"\n", 0, stray) + 1
        raise ImportInvalid(f"line {line}", f"a byte order mark (U+FEFF) inside (byte {stray})")
    if b"\r" in body and b"\n" in body:
        mixed_line_ends(body, csv)
    return body


def mixed_line_ends(body: bytes, csv: bool) -> None:
    """ImportInvalid on the first line that ends otherwise than the first (outside a CSV's
    quoted cells): each is searched for, so a file of one kind costs two scans."""
    first = ANY_END.search(body)
    other = BARE_LF if first.group() == b"\r\n" else CRLF
    at, quotes = 0, 0
    while found := other.search(body, at):
        if csv:
            quotes += body.count(b'"', at, found.start())
            at = found.end()
            if quotes % 2:  # inside a quoted cell
                continue
        line = body.count(b"\n", 0, found.start()) + 1
        ending = "LF" if other is BARE_LF else "CRLF"
        raise ImportInvalid(
            f"line {line}", f"ends with {ending}, the lines before it otherwise: one line end"
        )


def text_of(body: bytes) -> str:
    """A body as text: UTF-8; ImportInvalid where it is not."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        line = body[: error.start].count(b"\n") + 1
        raise ImportInvalid(f"line {line}", f"not UTF-8 (byte {error.start})") from None


def duration_text(length: timedelta) -> str:
    """An ISO 8601 duration (PT15M, P1DT2H) of a non-negative timedelta."""
    days, seconds = length.days, length.seconds
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    text = f"P{days}D" if days else "P"
    if time or not days:
        text += f"T{time or '0S'}"
    return text
