"""An import's answer from the file's Content-Type and bytes: the report, or the problem that
refuses it. The route answers it at once for a small file; an import job (jobs.py) keeps it,
as a status and its body, for GET …/imports/<id>, so a job answers what the request would
have answered."""

import uuid

from marshmallow import ValidationError

from ..accounts.tokens import Caller
from ..errors import problem_body, problem_of
from ..lists.store import ListNotFound
from . import calendar, document, imports, spreadsheet, todoist
from .items import ImportInvalid, Parsed, checked, loaded, text_of
from .schemas import ImportReportSchema

CALENDAR, CSV, JSON = "text/calendar", "text/csv", "application/json"
KINDS = (JSON, CALENDAR, CSV)
REPORT = ImportReportSchema()
LISTED = 1000  # entries each list of a report names
IMPORT_INVALID, IMPORT_REJECTED = "/problems/import-invalid", "/problems/import-rejected"
IMPORT_STOPPED = "/problems/import-stopped"


class FileRefused(Exception):
    """A file refused with a problem of the import's own (unreadable, or with problems)."""

    def __init__(self, body: dict):
        super().__init__(body["detail"])
        self.body = body


def report(caller: Caller, kind: str, body: bytes, list_id: uuid.UUID | None, keep: bool) -> dict:
    """The import (`keep`) or its preview of a file of a type in KINDS, as its report;
    FileRefused, or a domain error, when it is not applied."""
    try:
        parsed = parsed_body(kind, body)
        if not parsed.items and not parsed.problems:
            raise ImportInvalid("the file", f"no tasks in it (ignored: {parsed.ignored or 'none'})")
    except ImportInvalid as error:
        raise FileRefused(
            problem_body(422, str(error), type=IMPORT_INVALID, where=error.where)
        ) from None
    try:
        done = imports.run(caller, parsed, loaded(parsed), list_id, keep)
    except imports.ImportRejected as rejected:
        problems = rejected.report.problems[:LISTED]
        body = problem_body(422, str(rejected), type=IMPORT_REJECTED, problems=problems)
        raise FileRefused(body) from None
    except ValidationError:  # the list asked for is not one of the user's live lists
        raise ListNotFound() from None
    return REPORT.dump(answered(done))


def answer(caller: Caller, kind: str, body: bytes, list_id: uuid.UUID | None, keep: bool) -> dict:
    """`{"status": 200, "report": …}`, or `{"status": 4xx, "problem": …}` for a file refused
    or an import a domain error stopped (a revoked token, a list gone)."""
    try:
        return {"status": 200, "report": report(caller, kind, body, list_id, keep)}
    except FileRefused as refused:
        return {"status": refused.body["status"], "problem": refused.body}
    except Exception as error:
        found = problem_of(error)
        if found is None:
            raise
        return {"status": found[0], "problem": found[1]}


def interrupted() -> dict:
    """A job that failed: its worker stopped or broke before it answered, or its file
    waited longer than it is kept."""
    detail = (
        "The import stopped before it finished (its worker was stopped or failed, or no "
        "worker took it for a day): all of it or none was written. Send the file again: an "
        "import of it again creates nothing twice."
    )
    return {"status": 500, "problem": problem_body(500, detail, type=IMPORT_STOPPED)}


def parsed_body(kind: str, body: bytes) -> Parsed:
    """The body read by the reader its Content-Type names."""
    if not body.strip():
        raise ImportInvalid("the body", "empty")
    body = checked(body, csv=kind == CSV)
    if kind == JSON:
        return document.parsed(body)
    text = text_of(body)
    if kind == CALENDAR:
        return calendar.parsed(text)
    records = spreadsheet.rows(text)
    header = next(records, (1, []))[1]
    if todoist.is_todoist(header):
        return todoist.parsed(header, records)
    if "title" not in [name.strip().lower() for name in header]:
        raise ImportInvalid("line 1", "a CSV header needs a title column (or TYPE and CONTENT)")
    return spreadsheet.parsed(header, records)


def answered(done: imports.Report) -> dict:
    return {
        "format": done.format,
        "applied": done.applied,
        "counts": {
            "created": len(done.created),
            "updated": len(done.updated),
            "unchanged": done.unchanged,
            "lists_created": done.lists_created,
            "problems": len(done.problems),
            "warnings": len(done.warnings),
        },
        "created": done.created[:LISTED],
        "updated": done.updated[:LISTED],
        "problems": done.problems[:LISTED],
        "warnings": done.warnings[:LISTED],
        "ignored": done.ignored,
    }
