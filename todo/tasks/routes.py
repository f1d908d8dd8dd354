"""Tasks blueprint: a user's own tasks. The views read the request and answer; the statements
(store.py) take the caller and raise, and the factory maps their errors."""

from urllib.parse import urlencode

from flask import current_app, g, request, url_for
from flask_smorest import abort
from marshmallow import RAISE
from sqlalchemy import Row

from .. import idempotency
from ..accounts.store import load_account
from ..blueprint import Blueprint
from ..etags import ETAG_HEADER, IF_MATCH, IF_NONE_MATCH, etag, if_match_versions, not_modified
from ..idempotency import Answer
from . import store
from .listing import cursor_after
from .schemas import (
    CompletionSchema,
    ListQuerySchema,
    TaskChangesSchema,
    TaskInputSchema,
    TaskSchema,
)

blp = Blueprint(
    "tasks", __name__, url_prefix="/api/<user_id:user_id>/tasks", description="A user's own tasks"
)

LIST_HEADERS = {
    "X-Total-Count": {"description": "Tasks matching the filters", "schema": {"type": "integer"}},
    "Link": {
        "description": 'The next page, as <url>; rel="next", while more pages remain',
        "schema": {"type": "string"},
    },
}
CREATED_HEADERS = {
    **ETAG_HEADER,
    "Location": {"description": "The new task's URL", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "true when this is the stored answer to an earlier request with the "
        "same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    },
}


@blp.before_request
def require_url_user():
    """Every task route: the caller (a valid token: todo/accounts/routes.py) is the URL's user
    (403). Whether the token is still current is checked by the route's own statement."""
    if request.method == "OPTIONS":
        return
    if g.caller.user_id != request.view_args["user_id"]:
        load_account(g.caller)  # a token that is not current is 401 before it is 403
        abort(403, message="The token does not belong to this user.")


@blp.route("", methods=["GET"])
@blp.arguments(ListQuerySchema(), location="query", unknown=RAISE, error_status_code=400)
@blp.response(200, TaskSchema(many=True), headers=LIST_HEADERS)
@blp.problems(401, 403, 503)
def list_tasks(query, user_id):
    """List the user's tasks: filtered, sorted, a page at a time (keyset cursors)."""
    page = store.list_page(g.caller, query)
    headers = {"X-Total-Count": str(page.total)}
    if page.more:
        headers["Link"] = next_link(query, page.tasks[-1])
    return page.tasks, headers


def next_link(query: dict, last: Row) -> str:
    """`<url>; rel="next"` for the page after `last`, keeping every other parameter.

    flask-smorest's `@blp.paginate` is not used: it pages by offset (page 500 would cost 500
    pages' work) and counts every time; these are keyset pages (listing.py)."""
    params = {key: value for key, value in request.args.items() if key != "cursor"}
    params["cursor"] = cursor_after(query["sort"], last)
    return f'<{request.base_url}?{urlencode(params)}>; rel="next"'


@blp.route("", methods=["POST"])
@blp.doc(parameters=[idempotency.HEADER])
@blp.arguments(TaskInputSchema())
@blp.response(201, TaskSchema, headers=CREATED_HEADERS)
@blp.problems(400, 401, 403, 409, 413, 415, 503)
def create_task(fields, user_id):
    """Create a task; its `created_at` and `updated_at` are the same instant."""
    key = idempotency.checked_key(request.headers.get("Idempotency-Key"))
    if key is None:
        task = store.add_task(g.caller, fields)
        return task, created_headers(task)
    request_hash = idempotency.fingerprint(request.method, request.path, fields)
    answer = store.add_task_once(g.caller, key, request_hash, fields, created_answer)
    response = current_app.json.response(answer.body)
    response.status_code = answer.status
    response.headers.update(answer.headers)
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def created_answer(task: Row) -> Answer:
    return Answer(201, created_headers(task), TaskSchema().dump(task))


def with_etag(task: Row):
    return task, {"ETag": etag(task)}


def created_headers(task: Row) -> dict:
    location = url_for("tasks.read_task", user_id=task.user_id, task_id=task.id)
    return {"Location": location, "ETag": etag(task)}


@blp.route("/<uuid:task_id>", methods=["GET"])
@blp.doc(parameters=[IF_NONE_MATCH])
@blp.response(200, TaskSchema, headers=ETAG_HEADER)
@blp.alt_response(304, description="Not Modified: the task still has the ETag sent")
@blp.problems(401, 403, 404, 503)
def read_task(user_id, task_id):
    """Read one task."""
    task = store.read_task(g.caller, task_id)
    if not_modified(request, task):
        return current_app.response_class(status=304, headers={"ETag": etag(task)})
    return with_etag(task)


@blp.route("/<uuid:task_id>", methods=["PUT"])
@blp.doc(parameters=[IF_MATCH])
@blp.arguments(TaskInputSchema())
@blp.response(200, TaskSchema, headers=ETAG_HEADER)
@blp.problems(400, 401, 403, 404, 412, 413, 415, 503)
def replace_task(fields, user_id, task_id):
    """Replace a task: an omitted description becomes null; `completed` changes if sent."""
    return with_etag(store.write_task(g.caller, task_id, fields, if_match_versions(request)))


@blp.route("/<uuid:task_id>", methods=["PATCH"])
@blp.doc(parameters=[IF_MATCH])
@blp.arguments(TaskChangesSchema())
@blp.response(200, TaskSchema, headers=ETAG_HEADER)
@blp.problems(400, 401, 403, 404, 412, 413, 415, 503)
def update_task(fields, user_id, task_id):
    """Change only the fields sent."""
    return with_etag(store.write_task(g.caller, task_id, fields, if_match_versions(request)))


@blp.route("/<uuid:task_id>/complete", methods=["PATCH"])
@blp.doc(parameters=[IF_MATCH])
@blp.arguments(CompletionSchema(), required=False)
@blp.response(200, TaskSchema, headers=ETAG_HEADER)
@blp.problems(400, 401, 403, 404, 412, 413, 415, 503)
def toggle_task(fields, user_id, task_id):
    """Flip `completed` atomically, or set it to the `completed` sent (safe to retry)."""
    versions, flip = if_match_versions(request), "completed" not in fields
    return with_etag(store.write_task(g.caller, task_id, fields, versions, flip))


@blp.route("/<uuid:task_id>", methods=["DELETE"])
@blp.doc(parameters=[IF_MATCH])
@blp.response(204)
@blp.problems(401, 403, 404, 412, 503)
def delete_task(user_id, task_id):
    """Delete a task."""
    store.remove_task(g.caller, task_id, if_match_versions(request))
