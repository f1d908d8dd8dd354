"""Lists blueprint: a user's lists of tasks. The views read the request and answer; the
statements (store.py) take the caller and raise, and the factory maps their errors."""

from flask import current_app, g, request, url_for
from marshmallow import RAISE
from sqlalchemy import Row

from .. import idempotency
from ..blueprint import (
    LIST_IF_NONE_MATCH,
    REBALANCED_HEADER,
    Blueprint,
    conditional_collection_headers,
    created_headers,
    rebalanced_header,
    replayed_response,
    revalidated,
    still_fresh,
    trash_since,
)
from ..etags import ETAG_HEADER, IF_MATCH, IF_NONE_MATCH, etag, fresh_or_tagged, if_match_versions
from ..idempotency import Answer
from ..sharing.shared_lists import shared_list, shared_lists, shared_state
from ..tasks.query_schemas import DeleteQuerySchema
from . import examples, store, trash
from .schemas import (
    NewTaskListSchema,
    TaskListChangesSchema,
    TaskListMoveSchema,
    TaskListQuerySchema,
    TaskListSchema,
)

blp = Blueprint(
    "lists",
    __name__,
    url_prefix="/api/<user_id:user_id>/lists",
    description="A user's lists",
    problem_examples=examples.LIST_PROBLEMS,
)
COLLECTION_HEADERS = conditional_collection_headers(
    "The live lists' state, which moves with any change to the user's lists or tasks"
)
CREATED_HEADERS = created_headers("list", "create with the same chosen id and body")


@blp.route("", methods=["GET"])
@blp.headers(LIST_IF_NONE_MATCH)
@blp.arguments(TaskListQuerySchema(), location="query", unknown=RAISE, error_status_code=400)
@blp.response(200, TaskListSchema(many=True), headers=COLLECTION_HEADERS)
@blp.alt_response(304, description="Not Modified: the lists still have the ETag sent")
@blp.problems(401, 403, 503)
def list_lists(query, user_id):
    """List the user's lists in their order, with their task counts, or those in the trash.

    At most 500 live lists of the user's own, then the lists shared with the user (each with
    its `owner_id` and the user's `role`); with `deleted=true` the user's lists in the trash.
    The ETag of the live lists moves with any change to the user's lists or tasks (their
    counts) and to the lists shared with the user; sent back in If-None-Match, it gets 304.
    """
    if query["deleted"]:
        return store.all_lists(g.caller, trash_since())[0]
    if fresh := still_fresh("lists", lambda: lists_state(store.list_number(g.caller))):
        return fresh
    rows, number = store.all_lists(g.caller)
    state = lists_state(number)
    return rows + shared_lists(g.caller), revalidated(f"lists-{state}")


def lists_state(number: int | None) -> str | None:
    """What the lists' ETag quotes: the user's change number, and the state of the lists
    shared with the user if any (read after it: the ETag never claims a later state)."""
    if number is None:
        return None
    shared = shared_state(g.caller)
    return f"{number}.{shared}" if shared else str(number)


@blp.route("", methods=["POST"])
@blp.arguments(NewTaskListSchema(), examples=examples.NEW_LIST)
@blp.response(201, TaskListSchema, headers={**CREATED_HEADERS, **REBALANCED_HEADER})
@blp.problems(400, 401, 403, 404, 409, 413, 415, 503, examples=examples.NEW_LIST_PROBLEMS)
def create_list(fields, user_id):
    """Create a list.

    At the end of the user's lists, or `after`/`before` one. With a chosen `id`, a retry of
    the same request gets the first answer. 422 (/problems/too-many-lists) beyond 500 live
    lists.
    """
    request_hash = idempotency.fingerprint(request.method, request.path, fields)
    return replayed_response(store.add_list(g.caller, fields, request_hash, created_answer))


def created_answer(row: Row, rebalanced: int) -> Answer:
    location = url_for("lists.read_list", user_id=row.user_id, list_id=row.id)
    headers = {"Location": location, "ETag": etag(row), **rebalanced_header(rebalanced)}
    return Answer(201, headers, TaskListSchema().dump(row))


def with_etag(row: Row):
    return row, {"ETag": etag(row)}


@blp.route("/<uuid:list_id>", methods=["GET"])
@blp.headers(IF_NONE_MATCH)
@blp.response(200, TaskListSchema, headers=ETAG_HEADER)
@blp.alt_response(304, description="Not Modified: the list still has the ETag sent")
@blp.problems(401, 403, 404, 503)
def read_list(user_id, list_id):
    """Read one list.

    A live list, with its task counts. Its ETag is its version, as a task's is: send it in
    If-None-Match to get 304 while the list is unchanged. The counts, derived from its tasks,
    do not move it (the lists' collection ETag does). A member of a list shared with them
    reads it at its owner's URL, with their own role.
    """
    if g.caller.shared is not None:
        return fresh_or_tagged(request, shared_list(g.caller, list_id))
    return fresh_or_tagged(request, store.read_list(g.caller, list_id))


@blp.route("/<uuid:list_id>", methods=["PATCH"])
@blp.headers(IF_MATCH)
@blp.arguments(TaskListChangesSchema(), examples=examples.LIST_CHANGES)
@blp.response(200, TaskListSchema, headers=ETAG_HEADER)
@blp.problems(400, 401, 403, 404, 412, 413, 415, 503, examples=examples.INVALID_LIST)
def update_list(fields, user_id, list_id):
    """Rename a list, or set its position.

    The position is a key the client computed with the fractional-indexing algorithm.
    """
    versions = if_match_versions(request)
    return with_etag(store.change_list(g.caller, list_id, fields, versions))


@blp.route("/<uuid:list_id>/move", methods=["POST"])
@blp.headers(IF_MATCH)
@blp.arguments(TaskListMoveSchema(), required=False, examples=examples.LIST_MOVE)
@blp.response(200, TaskListSchema, headers={**ETAG_HEADER, **REBALANCED_HEADER})
@blp.problems(400, 401, 403, 404, 409, 412, 413, 415, 503, examples=examples.STALE_ORDER)
def move_list(place, user_id, list_id):
    """Move a list among the user's lists.

    Directly after `after`, directly before `before`, between both, or at the end. 409
    (/problems/stale-order) if `after` no longer sorts before `before`.
    """
    row, rebalanced = store.move_list(g.caller, list_id, place, if_match_versions(request))
    headers = {"ETag": etag(row)}
    headers.update(rebalanced_header(rebalanced))
    return row, headers


@blp.route("/<uuid:list_id>", methods=["DELETE"])
@blp.headers(IF_MATCH)
@blp.arguments(DeleteQuerySchema(), location="query", unknown=RAISE, error_status_code=400)
@blp.response(204)
@blp.problems(401, 403, 404, 412, 503)
def delete_list(query, user_id, list_id):
    """Delete a list and its tasks: to the trash, or for good.

    The list and its tasks go to the trash in one change; with `purge=true` the list and
    every task in it are deleted for good.
    """
    versions = if_match_versions(request)
    if query["purge"] or not current_app.config["TRASH_RETENTION_DAYS"]:
        trash.purge_list(g.caller, list_id, versions)
    else:
        trash.trash_list(g.caller, list_id, versions)


@blp.route("/<uuid:list_id>/restore", methods=["POST"])
@blp.headers(IF_MATCH)
@blp.response(200, TaskListSchema, headers=ETAG_HEADER)
@blp.problems(401, 403, 404, 410, 412, 503)
def restore_list(user_id, list_id):
    """Restore a list from the trash.

    It comes back with the tasks trashed with it; a live list is answered as it is. 410 once
    it was purged, or expired in the trash.
    """
    versions = if_match_versions(request)
    return with_etag(trash.restore_list(g.caller, list_id, versions, trash_since()))
