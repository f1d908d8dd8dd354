"""Portability blueprint, under /api/<user_id>/: the whole-account export, the tasks as
iCalendar or CSV, and imports (preview, then apply; a large file as a job). The views read
the request and answer; the reads (store.py) and the import (imports.py) take the caller and
raise, answers.py turns an import into its answer, jobs.py queues one."""

import hashlib
from collections.abc import Iterator
from urllib.parse import urlencode

from flask import Response, current_app, g, request, stream_with_context, url_for
from marshmallow import RAISE

from .. import holding, throttles
from ..blueprint import Blueprint, trash_since
from ..errors import problem, problem_answer
from ..lists.store import read_list
from ..tasks import reads
from . import answers, calendar, document, examples, jobs, spreadsheet, store, subscriptions
from .schemas import (
    ExportQuerySchema,
    ExportSchema,
    ImportJobSchema,
    ImportQuerySchema,
    ImportReportSchema,
    NewSubscriptionAnswerSchema,
    NewSubscriptionSchema,
    SubscriptionSchema,
)
from .steps import ExportSteps, ceding

blp = Blueprint(
    "portability",
    __name__,
    url_prefix="/api/<user_id:user_id>",
    description="Your data goes where you go: exports (JSON, iCalendar, CSV), imports, "
    "calendar subscriptions",
)
CALENDAR, CSV = answers.CALENDAR, answers.CSV
JOB = ImportJobSchema()
TAGGED = {
    "ETag": {"description": "The exported tasks' state (weak)", "schema": {"type": "string"}},
}
WAITED = {
    "Retry-After": {
        "description": "Seconds to wait before asking again, while the import waits or runs",
        "schema": {"type": "integer"},
    },
}
QUEUED = {
    "description": "Accepted: a file over IMPORT_INLINE_BYTES, imported by a job; ask "
    "Location (GET …/imports/<id>) how it stands",
    "headers": {
        "Location": {"description": "The job's URL", "schema": {"type": "string"}},
        **WAITED,
    },
}
IMPORT_BODY = {
    "required": True,
    "description": "The file, its format told by its Content-Type: our JSON export, an "
    "iCalendar file (VTODOs), a CSV file (ours, or Todoist's template). Up to 10 MiB and "
    "20,000 tasks; a byte order mark only at the start of a CSV file, and every line ending "
    "alike (CRLF or LF).",
    "content": {
        "application/json": {
            "schema": {"type": "object", "description": "Our export (GET …/export)"},
            "examples": examples.IMPORT_FILES,
        },
        **{
            kind: {"schema": {"type": "string"}, "examples": files}
            for kind, files in examples.OTHER_FILES.items()
        },
    },
}


@blp.before_request
def import_body_limit():
    """An import may carry a whole file, up to 10 MiB (the server lets it through too)."""
    if request.endpoint in ("portability.preview_import", "portability.apply_import"):
        request.max_content_length = current_app.config["IMPORT_BODY_LIMIT"]


@blp.route("/export", methods=["GET"])
@blp.response(200, ExportSchema, description="The whole account, streamed")
@blp.problems(401, 403, 429, 503)
def export_account(user_id):
    """Export everything the user owns, as one JSON document.

    Version 1 of the `todo-export` format: the account's settings, lists, labels, every task
    (the trash's too) and the completion history; never a password hash, a token or a
    secret. Streamed a page at a time, whatever the account's size. The user's right to data
    portability (GDPR article 20); POST it to …/imports to bring it back. At most
    EXPORTS_PER_USER exports of a user's at once (429, Retry-After).
    """
    caller = g.caller
    account = store.account(caller)
    pieces = document.chunks(account, lambda section: ceding(store.rows_of(caller, section)))
    headers = {"Content-Disposition": 'attachment; filename="todo-export.json"'}
    return streamed(exporter(caller), pieces, "application/json", headers)


def exporter(caller) -> str:
    """What a user's exports in progress are counted by (EXPORTS_PER_USER)."""
    return f"export:{caller.actor_id}"


def streamed(key: str, pieces: Iterator[bytes], mimetype: str, headers: dict) -> Response:
    """A file: its first piece sent by this request and the rest written by the serving
    worker a piece at a time (steps.py), or by this request's thread under another server;
    a Refusal of the worker's (too many exports of `key`'s, or of the worker's) answered as
    its problem."""
    live = holding.gate()
    if live is None:
        return current_app.response_class(
            stream_with_context(pieces), mimetype=mimetype, headers=headers
        )
    first = next(pieces)  # before the admission: a view that fails holds no slot
    refused = live.export(key, ExportSteps(current_app._get_current_object(), pieces))
    if refused is not None:
        return problem(refused.status, refused.detail, {"Retry-After": str(refused.retry_after)})
    # An iterable, so no Content-Length: the worker sends the rest in chunks.
    return current_app.response_class(iter([first]), mimetype=mimetype, headers=headers)


@blp.route("/export/calendar", methods=["GET"])
@blp.arguments(ExportQuerySchema(), location="query", unknown=RAISE, error_status_code=400)
@blp.response(200, {"type": "string"}, content_type=CALENDAR, headers=TAGGED)
@blp.alt_response(304, description="Not Modified: the tasks still have the ETag sent")
@blp.problems(401, 403, 404, 429, 503)
def export_calendar(query, user_id):
    """Export the user's tasks as iCalendar (VTODOs).

    Any list query's filters and sort (GET …/tasks), every page: one VTODO a task, with its
    due date in its form, rule, reminders (VALARM), priority, labels (CATEGORIES) and parent
    (RELATED-TO). With `list_id`, the calendar is named after the list (X-WR-CALNAME).
    Weak ETag; If-None-Match gets 304.
    """
    return exported(query, "calendar", CALENDAR, calendar_pieces)


@blp.route("/export/csv", methods=["GET"])
@blp.arguments(ExportQuerySchema(), location="query", unknown=RAISE, error_status_code=400)
@blp.response(200, {"type": "string"}, content_type=CSV, headers=TAGGED)
@blp.alt_response(304, description="Not Modified: the tasks still have the ETag sent")
@blp.problems(401, 403, 404, 429, 503)
def export_csv(query, user_id):
    """Export the user's tasks as CSV.

    Any list query's filters and sort, every page; the columns are documented in the
    portability guide. A cell a spreadsheet would run as a formula starts with `'`.
    """
    return exported(query, "csv", CSV, csv_pieces)


def exported(query: dict, kind: str, mimetype: str, pieces_of) -> Response:
    """A filtered export: 304 while If-None-Match names its state, else streamed. The token
    is checked before anything is answered (a stream cannot become a 401 once started)."""
    store.account(g.caller)
    name = read_list(g.caller, query["list_id"]).name if "list_id" in query else None
    query = reads.prepared(g.caller, query, trash_since())
    version = store.query_version(g.caller, query)
    digest = hashlib.blake2b(urlencode(sorted(request.args.items(multi=True))).encode())
    tag = f"{kind}-{version}-{digest.hexdigest()[:16]}"
    headers = {"ETag": f'W/"{tag}"', "Cache-Control": "private, no-cache"}
    if "now" not in query and request.if_none_match.contains_weak(tag):
        return current_app.response_class(status=304, headers=headers)
    if "now" in query:  # depends on the clock: nothing to match later
        del headers["ETag"]
    filename = f"tasks.{'ics' if kind == 'calendar' else 'csv'}"
    headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return streamed(exporter(g.caller), pieces_of(query, name), mimetype, headers)


def calendar_pieces(query: dict, name: str | None) -> Iterator[bytes]:
    return calendar.pieces(ceding(store.matching_tasks(g.caller, query)), name or "Tasks")


def csv_pieces(query: dict, name: str | None) -> Iterator[bytes]:
    return spreadsheet.lines(ceding(store.matching_tasks(g.caller, query)))


@blp.route("/imports/preview", methods=["POST"])
@blp.arguments(ImportQuerySchema(), location="query", unknown=RAISE, error_status_code=400)
@blp.doc(requestBody=IMPORT_BODY)
@blp.response(200, ImportReportSchema)
@blp.alt_response(202, schema=ImportJobSchema, **QUEUED)
@blp.problems(401, 403, 404, 413, 415, 422, 429, 503, examples=examples.IMPORT_PROBLEMS)
def preview_import(query, user_id):
    """Preview an import: what it would create and update, and the file's problems.

    Nothing is written. Each problem names where it is (a line, a component, a path) and the
    field; `warnings` say what of a task would not be imported. Apply with POST …/imports.
    A file over IMPORT_INLINE_BYTES (with Redis) is previewed by a job: 202, and its URL.
    """
    return import_answer(query, user_id, keep=False)


@blp.route("/imports", methods=["POST"])
@blp.arguments(ImportQuerySchema(), location="query", unknown=RAISE, error_status_code=400)
@blp.doc(requestBody=IMPORT_BODY)
@blp.response(200, ImportReportSchema)
@blp.alt_response(202, schema=ImportJobSchema, **QUEUED)
@blp.problems(401, 403, 404, 413, 415, 422, 429, 503, examples=examples.IMPORT_PROBLEMS)
def apply_import(query, user_id):
    """Import a file: our JSON export, iCalendar (VTODO), our CSV or Todoist's.

    All or nothing, in one change of the feed: a file with a problem is a 422
    (/problems/import-rejected) listing them, and nothing is written. Idempotent: ids come
    from the file (UIDs, ids, rows), so importing it again creates nothing new. Into
    `list_id` if given. Up to 10 MiB (413) and 20,000 tasks (422). A file over
    IMPORT_INLINE_BYTES (with Redis) is imported by a job: 202, and its URL (GET
    …/imports/{job_id}), which answers what this would have.
    """
    return import_answer(query, user_id, keep=True)


def import_answer(query: dict, user_id, keep: bool):
    """The import's report, at once; a file over IMPORT_INLINE_BYTES, when there is a queue,
    is kept and imported by a job (202: the job to ask), the token and the list checked
    first, so that what would be refused at once is."""
    kind, body, list_id = request.mimetype, request.get_data(), query.get("list_id")
    if kind not in answers.KINDS:
        return problem(415, examples.NOT_A_FILE)
    if not jobs.queued(len(body)):
        try:
            return answers.report(g.caller, kind, body, list_id, keep)
        except answers.FileRefused as refused:
            return problem_answer(refused.body)
    store.account(g.caller)
    if list_id is not None:
        read_list(g.caller, list_id)
    job = jobs.enqueue(jobs.Upload.of(g.caller, kind, list_id, keep), body)
    answer = current_app.json.response(JOB.dump(jobs.state(job)))
    answer.status_code = 202
    answer.headers["Location"] = url_for(".import_job", user_id=user_id, job_id=job.id)
    answer.headers["Retry-After"] = "1"
    return answer


@blp.route("/imports/<uuid:job_id>", methods=["GET"])
@blp.response(200, ImportJobSchema, headers=WAITED)
@blp.problems(401, 403, 404, 503, examples=examples.IMPORT_JOB_PROBLEMS)
def import_job(user_id, job_id):
    """Ask how an import sent as a job stands.

    A file over IMPORT_INLINE_BYTES is imported by a job (POST …/imports and …/imports/preview
    answer 202, with this URL as Location). `state` is `queued`, `running`, `finished`
    (`status` and `report` or `problem`: what the POST would have answered) or `failed`
    (the worker stopped before it answered: a 500 problem; send the file again). Retry-After
    while it waits. Kept for a day after it ends.
    """
    found = jobs.state(jobs.job_of(g.caller, job_id))
    headers = {} if found["state"] in ("finished", "failed") else {"Retry-After": "1"}
    return found, 200, headers


@blp.route("/calendar-subscriptions", methods=["POST"])
@blp.arguments(NewSubscriptionSchema(), examples=examples.NEW_SUBSCRIPTION)
@blp.response(201, NewSubscriptionAnswerSchema)
@blp.problems(400, 401, 403, 404, 413, 415, 503, examples=examples.NEW_SUBSCRIPTION_PROBLEMS)
def create_subscription(fields, user_id):
    """Make a calendar subscription: a URL a calendar application polls with no token.

    Its tasks with a due date (of one list, or all), as VTODOs or as events; the URL is
    shown this once and works until revoked. At most 20 (422
    /problems/too-many-subscriptions).
    """
    row, secret = subscriptions.subscribe(
        g.caller, fields.get("list_id"), fields.get("events", False)
    )
    url = url_for("calendar_feeds.poll_calendar", secret=secret, _external=True)
    webcal = "webcal://" + url.split("://", 1)[1]
    return {**row._mapping, "url": url, "webcal_url": webcal}


@blp.route("/calendar-subscriptions", methods=["GET"])
@blp.response(200, SubscriptionSchema(many=True))
@blp.problems(401, 403, 503)
def list_subscriptions(user_id):
    """List the user's calendar subscriptions.

    Without their URLs, which are shown only when made: revoke one and make another to get
    a new URL.
    """
    return subscriptions.subscriptions(g.caller)


@blp.route("/calendar-subscriptions/<uuid:subscription_id>", methods=["DELETE"])
@blp.response(204)
@blp.problems(401, 403, 404, 503, examples=examples.SUBSCRIPTION_PROBLEMS)
def revoke_subscription(user_id, subscription_id):
    """Revoke a calendar subscription.

    Its URL answers 404 from now on; the calendar applications polling it keep what they
    last read.
    """
    subscriptions.revoke(g.caller, subscription_id)


feeds = Blueprint(
    "calendar_feeds",
    __name__,
    url_prefix="/calendar",
    description="Calendar feeds: what calendar applications poll, with no token",
    problem_examples=examples.FEED_PROBLEMS,
)


@feeds.route("/<secret>.ics", methods=["GET"])
@feeds.public
@feeds.response(200, {"type": "string"}, content_type=CALENDAR, headers=TAGGED)
@feeds.alt_response(304, description="Not Modified: the tasks still have the ETag sent")
@feeds.problems(404, 429, 503)
def poll_calendar(secret):
    """Read a calendar subscription's feed: what a calendar application polls.

    The URL's secret is the only credential (no token): it is never logged. The tasks with
    a due date, as the subscription says (VTODOs or events, one list or all). Weak ETag,
    304; polls of one subscription are limited (RATELIMIT_CALENDAR_PER_SUBSCRIPTION, 429).
    """
    user_id, row = subscriptions.feed(secret)
    with throttles.attempt((throttles.CALENDAR_PER_SUBSCRIPTION, row.id)) as counted:
        counted.keep()
    tag = f"feed-{row.id}-{subscriptions.feed_number(user_id)}"
    headers = {"ETag": f'W/"{tag}"', "Cache-Control": "private, no-cache"}
    if request.if_none_match.contains_weak(tag):
        return current_app.response_class(status=304, headers=headers)
    name = None
    if row.list_id is not None:
        name = subscriptions.list_name(user_id, row.list_id)
    tasks = ceding(subscriptions.feed_tasks(user_id, row))
    pieces = calendar.pieces(tasks, name or "Tasks", row.events)
    # Counted by subscription: calendar applications polling are not the user's own exports.
    return streamed(f"feed:{row.id}", pieces, CALENDAR, headers)
