"""Tasks blueprint: a user's own tasks. The views read the request and answer; the task store
(reads, creates, writes, trash) takes the caller and raises, and the factory maps its
errors."""

import hashlib
from urllib.parse import urlencode

from flask import current_app, g, request, url_for
from flask_smorest import abort
from marshmallow import RAISE
from sqlalchemy import Row

from .. import idempotency
from ..blueprint import (
    LIST_IF_NONE_MATCH,
    NEXT_LINK_HEADER,
    REBALANCED_HEADER,
    Blueprint,
    conditional_collection_headers,
    created_headers,
    next_page_link,
    rebalanced_header,
    replayed_response,
    revalidated,
    trash_since,
)
from ..etags import ETAG_HEADER, IF_MATCH, IF_NONE_MATCH, etag, fresh_or_tagged, if_match_versions
from ..idempotency import Answer
from ..lists.store import ListNotFound
from ..sharing import access
from . import creates, examples, reads, trash, writes
from .listing import cursor_after
from .query_schemas import DeleteQuerySchema, ListQuerySchema
from .schemas import (
    CompletionSchema,
    MoveSchema,
    NewTaskSchema,
    TaskChangesSchema,
    TaskInputSchema,
    TaskSchema,
)
from .writes import TaskWrite

blp = Blueprint(
    "tasks",
    __name__,
    url_prefix="/api/<user_id:user_id>/tasks",
    description="A user's own tasks",
    problem_examples=examples.TASK_PROBLEMS,
)

CONDITIONAL_LIST_HEADERS = conditional_collection_headers("The list's state")
LIST_HEADERS = {
    "ETag": {
        "description": "The list's state (weak): send it in If-None-Match to get 304 while "
        "nothing changed",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"description": "private, no-cache", "schema": {"type": "string"}},
    "Vary": {"description": "Authorization", "schema": {"type": "string"}},
}
LIST_HEADERS = {
    "X-Total-Count": {"description": "Tasks matching the filters", "schema": {"type": "integer"}},
    **NEXT_LINK_HEADER,
}
CREATED_HEADERS = created_headers(
    "task", "request with the same Idempotency-Key, or the same chosen id and body"
)


@blp.route("", methods=["GET"])
@blp.headers(LIST_IF_NONE_MATCH)
@blp.arguments(ListQuerySchema(), location="query", unknown=RAISE, error_status_code=400)
@blp.response(200, TaskSchema(many=True), headers={**LIST_HEADERS, **CONDITIONAL_LIST_HEADERS})
@blp.alt_response(304, description="Not Modified: the list still has the ETag sent")
@blp.problems(401, 403, 503)
def list_tasks(query, user_id):
    """List the user's tasks, or their trash: filtered, sorted, a page at a time.

    Pages are keyset pages: follow the Link header's `rel="next"` URL. X-Total-Count counts
    the tasks matching the filters. The answer's ETag changes with any change to the user's
    tasks; sent back in If-None-Match, it gets 304 for one indexed read.
    """
    query = reads.prepared(g.caller, query, trash_since())
    if g.caller.shared is not None:
        query["list_id"] = shared_list_asked(g.caller, query)
    try:
        page = reads.list_page(g.caller, query)
    except ListNotFound:
        if g.caller.role != access.READER_ROLE:
            raise
        # A member's read that found the list not shared with them: 403 if nothing of the
        # user's is, as for any other route; else ListNotFound, or the list if shared since.
        member = access.member_caller(g.caller, user_id)
        if member is None:
            abort(403, message=access.FOREIGN_SPACE)
        access.readable_list(member, query["list_id"])
        page = reads.list_page(member, query)
        g.caller = member
    headers = {"X-Total-Count": str(page.total)}
    if "now" not in query:  # an answer that depends on the clock has no ETag to match later
        headers.update(list_headers(page.version))
        if g.caller.shared is not None and request.if_none_match.contains_weak(
            list_tag(page.version)
        ):  # a member's conditional list: after its read (list_not_modified is the owner's)
            return current_app.response_class(status=304, headers=list_headers(page.version))
    if page.more:
        headers["Link"] = next_page_link(cursor_after(query["sort"], page.tasks[-1]))
    return page.tasks, headers


def shared_list_asked(caller, query: dict):
    """A member lists the tasks of one list shared with them: the one the query names, or
    the only one there is (ListNotFound for any other; a query naming none, with several
    shared, is refused as a bad query)."""
    if "list_id" not in query and len(caller.shared) > 1:
        abort(400, message="Name the shared list whose tasks to list: list_id=<id>.")
    list_id = query.get("list_id", next(iter(caller.shared)))
    access.readable_list(caller, list_id)
    return list_id


@blp.before_request
def list_not_modified():
    """A conditional list is answered before its query is even parsed: its ETag holds a
    digest of the query as sent, so only a query that was answered before can match. The
    caller must be the URL's user (else the 403 check that follows answers); a token that is
    not current reads no version, and the list's own statement answers 401."""
    if request.endpoint != "tasks.list_tasks" or request.method != "GET":
        return None
    if "If-None-Match" not in request.headers or request.if_none_match.star_tag:
        return None  # `*` matches any list, even of a query that is not one: answered in full
    if "overdue" in request.args:
        return None  # depends on the clock: answered in full
    if g.caller.actor_id != request.view_args["user_id"]:
        return None
    query = {"trash_since": trash_since()} if request.args.get("deleted") == "true" else {}
    version = reads.list_version(g.caller, query)
    if version is None or not request.if_none_match.contains_weak(list_tag(version)):
        return None
    return current_app.response_class(status=304, headers=list_headers(version))


def list_tag(version: str) -> str:
    """The list's entity tag: its version (the user's change number) and the query's own
    digest, so every query has tags of its own."""
    return f"{version}-{query_digest()}"


# The digests of the query strings lists were last asked with: clients repeat the same few.
QUERY_DIGESTS: dict[bytes, str] = {}
QUERY_DIGESTS_KEPT = 1024


def query_digest() -> str:
    """The digest of the request's query, its parameters sorted (their order does not
    matter), worked out once per query string as sent (~2% of a 20-task list's CPU)."""
    digest = QUERY_DIGESTS.get(request.query_string)
    if digest is None:
        if len(QUERY_DIGESTS) >= QUERY_DIGESTS_KEPT:
            QUERY_DIGESTS.clear()
        query = urlencode(sorted(request.args.items(multi=True)))
        digest = hashlib.blake2b(query.encode(), digest_size=8).hexdigest()
        QUERY_DIGESTS[request.query_string] = digest
    return digest


def list_headers(version: str) -> dict:
    return revalidated(list_tag(version))


@blp.route("", methods=["POST"])
@blp.headers(idempotency.HEADER)
@blp.arguments(NewTaskSchema(), examples=examples.NEW_TASK)
@blp.response(201, TaskSchema, headers={**CREATED_HEADERS, **REBALANCED_HEADER})
@blp.problems(400, 401, 403, 404, 409, 413, 415, 503, examples=examples.NEW_TASK_PROBLEMS)
def create_task(fields, user_id):
    """Create a task.

    Its `created_at` and `updated_at` are the same instant; it goes at the end of its scope's
    manual order, or `after`/`before` a task there. With a chosen `id` or an Idempotency-Key,
    a retry of the same request gets the first answer (the same id with another body: 409).
    """
    access.keeps_to_shared(g.caller, fields, required=True)
    key = idempotency.checked_key(request.headers.get("Idempotency-Key"))
    key = access.idempotency_key(g.caller, key)
    if key is None and "id" not in fields:
        task, rebalanced = creates.add_task(g.caller, fields)
        return task, new_task_headers(task, rebalanced)
    request_hash = idempotency.fingerprint(request.method, request.path, fields)
    answer = creates.add_task_once(g.caller, fields, (key, request_hash), created_answer)
    return replayed_response(answer)


def created_answer(task: Row, rebalanced: int) -> Answer:
    return Answer(201, new_task_headers(task, rebalanced), TaskSchema().dump(task))


def with_etag(task: Row):
    return task, {"ETag": etag(task)}


def new_task_headers(task: Row, rebalanced: int) -> dict:
    location = url_for("tasks.read_task", user_id=task.user_id, task_id=task.id)
    return {"Location": location, "ETag": etag(task), **rebalanced_header(rebalanced)}


def written(task_id, changes: dict, **guards) -> Row:
    """The task as a write of `changes` leaves it, guarded by the request's If-Match."""
    access.keeps_to_shared(g.caller, changes)
    write = TaskWrite(g.caller, task_id, changes, if_match_versions(request), **guards)
    return writes.write_task(write).task


@blp.route("/<uuid:task_id>", methods=["GET"])
@blp.headers(IF_NONE_MATCH)
@blp.response(200, TaskSchema, headers=ETAG_HEADER)
@blp.alt_response(304, description="Not Modified: the task still has the ETag sent")
@blp.problems(401, 403, 404, 503)
def read_task(user_id, task_id):
    """Read one task.

    Its ETag is its version: send it in If-None-Match to get 304 while the task is unchanged,
    or in If-Match to write only that version.
    """
    return fresh_or_tagged(request, reads.read_task(g.caller, task_id))


@blp.route("/<uuid:task_id>", methods=["PUT"])
@blp.headers(IF_MATCH)
@blp.arguments(TaskInputSchema(), examples=examples.WHOLE_TASK)
@blp.response(200, TaskSchema, headers=ETAG_HEADER)
@blp.problems(400, 401, 403, 404, 412, 413, 415, 503, examples=examples.INVALID_TASK)
def replace_task(fields, user_id, task_id):
    """Replace a task.

    An omitted description becomes null; `completed`, `priority` and the newer fields (due,
    recurrence, reminders, labels, list, parent, position) change only when sent, so a
    client that knows nothing of them never clears them.
    """
    return with_etag(written(task_id, fields))


@blp.route("/<uuid:task_id>", methods=["PATCH"])
@blp.headers(IF_MATCH)
@blp.arguments(TaskChangesSchema(), examples=examples.TASK_CHANGES)
@blp.response(200, TaskSchema, headers=ETAG_HEADER)
@blp.problems(400, 401, 403, 404, 412, 413, 415, 503, examples=examples.INVALID_TASK)
def update_task(fields, user_id, task_id):
    """Change some of a task's fields.

    A JSON Merge Patch (RFC 7396): only the fields sent change; `due` merges member by member
    (`{"due": {"time": null}}` makes it all-day), and null clears it.
    """
    return with_etag(written(task_id, fields))


@blp.route("/<uuid:task_id>/complete", methods=["PATCH"])
@blp.headers(IF_MATCH)
@blp.arguments(CompletionSchema(), required=False, examples=examples.COMPLETION)
@blp.response(200, TaskSchema, headers=ETAG_HEADER)
@blp.problems(400, 401, 403, 404, 412, 413, 415, 503)
def toggle_task(fields, user_id, task_id):
    """Complete a task, or reopen it: flip `completed`, or set it to the value sent.

    Without a body the flip is atomic; `{"completed": true}` is safe to retry. A recurring
    task completed moves to its next occurrence and stays open (completed for real once its
    rule is used up); `{"completed": false}` undoes the last roll-over.
    """
    occurrence = fields.pop("occurrence", None)
    flip = "completed" not in fields
    return with_etag(written(task_id, fields, flip=flip, occurrence=occurrence))


@blp.route("/<uuid:task_id>/move", methods=["POST"])
@blp.headers(IF_MATCH)
@blp.arguments(MoveSchema(), required=False, examples=examples.MOVE)
@blp.response(200, TaskSchema, headers={**ETAG_HEADER, **REBALANCED_HEADER})
@blp.problems(400, 401, 403, 404, 409, 412, 413, 415, 503, examples=examples.MOVE_PROBLEMS)
def move_task(place, user_id, task_id):
    """Move a task in the manual order, or into another list or under another parent.

    Directly after `after`, directly before `before`, between both, or at the end. 409
    (/problems/stale-order) if `after` no longer sorts before `before`: refetch the order.
    """
    access.keeps_to_shared(g.caller, place)
    versions = if_match_versions(request)
    task, rebalanced = writes.move_task(g.caller, task_id, place, versions)
    headers = {"ETag": etag(task)}
    headers.update(rebalanced_header(rebalanced))
    return task, headers


@blp.route("/<uuid:task_id>", methods=["DELETE"])
@blp.headers(IF_MATCH)
@blp.arguments(DeleteQuerySchema(), location="query", unknown=RAISE, error_status_code=400)
@blp.response(204)
@blp.problems(401, 403, 404, 412, 503)
def delete_task(query, user_id, task_id):
    """Delete a task: to the trash, or for good.

    A trashed task (and its subtasks) can be restored for TRASH_RETENTION_DAYS; with
    `purge=true` it is deleted for good at once.
    """
    write = TaskWrite(g.caller, task_id, {}, if_match_versions(request))
    if query["purge"] or not current_app.config["TRASH_RETENTION_DAYS"]:
        trash.purge_task(write)
    else:
        trash.trash_task(write)


@blp.route("/<uuid:task_id>/restore", methods=["POST"])
@blp.headers(IF_MATCH)
@blp.response(200, TaskSchema, headers=ETAG_HEADER)
@blp.problems(401, 403, 404, 409, 410, 412, 503, examples=examples.RESTORE_PROBLEMS)
def restore_task(user_id, task_id):
    """Restore a task from the trash.

    It comes back with the subtasks trashed with it; a live task is answered as it is. 410
    once it was purged, or expired in the trash.
    """
    write = TaskWrite(g.caller, task_id, {}, if_match_versions(request))
    return with_etag(trash.restore_task(write, trash_since()))
