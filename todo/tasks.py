"""Tasks blueprint: a user's own tasks, with ownership enforced in every query."""

from flask import current_app, g, request, url_for
from flask_jwt_extended import verify_jwt_in_request
from flask_smorest import abort
from marshmallow import RAISE
from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from . import idempotency
from .blueprint import Blueprint
from .database import transaction
from .etags import ETAG_HEADER, IF_MATCH, IF_NONE_MATCH, etag, not_modified
from .extensions import db
from .pagination import ListQuerySchema, count_statement, next_link, page_statement
from .schemas import CompletionSchema, TaskChangesSchema, TaskInputSchema, TaskSchema
from .task_store import add_task, one_or_404, remove, write
from .tokens import current_account, token_parameters, user_gone

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
    """Every task route: a valid token (401), whose user is the URL's user (403). Whether the
    token is still current is checked by the route's own statement (todo/task_store.py)."""
    if request.method == "OPTIONS":
        return
    verify_jwt_in_request()
    g.token = token_parameters()
    if g.token["owner"] != request.view_args["user_id"]:
        current_account()  # a token that is not current is 401 before it is 403
        abort(403, message="The token does not belong to this user.")
    g.user_id = str(g.token["owner"])  # for the request's log line


@blp.route("", methods=["GET"])
@blp.arguments(ListQuerySchema(), location="query", unknown=RAISE, error_status_code=400)
@blp.response(200, TaskSchema(many=True), headers=LIST_HEADERS)
@blp.problems(401, 403, 503)
def list_tasks(query, user_id):
    """List the user's tasks: filtered, sorted, a page at a time (keyset cursors)."""
    tasks = db.session.execute(*page_statement(g.token, query)).all()
    if not tasks:
        current_account()  # nothing found: 401 if that is because the token is not current
    if len(tasks) <= query["limit"] and "cursor" not in query:
        return tasks, {"X-Total-Count": str(len(tasks))}  # the whole list: nothing to count
    total = db.session.scalar(*count_statement(user_id, query))
    if total is None:  # the counters' row: the account was deleted meanwhile
        user_gone()
    headers = {"X-Total-Count": str(total)}
    if len(tasks) > query["limit"]:
        tasks = tasks[: query["limit"]]
        headers["Link"] = next_link(query, tasks[-1])
    return tasks, headers


@blp.route("", methods=["POST"])
@blp.doc(parameters=[idempotency.HEADER])
@blp.arguments(TaskInputSchema())
@blp.response(201, TaskSchema, headers=CREATED_HEADERS)
@blp.problems(400, 401, 403, 409, 413, 415, 503)
def create_task(fields, user_id):
    """Create a task; its `created_at` and `updated_at` are the same instant."""
    key = idempotency.request_key()
    if key is None:
        try:
            task = add_task(fields)
        except IntegrityError:  # the only constraint a valid task can break: its user is gone
            user_gone()
        return task, created_headers(task)
    request_hash = idempotency.fingerprint(fields)
    current_account()  # a stored answer is replayed only to a token that is still current
    try:
        with transaction():  # the task and the answer stored for its key land together
            idempotency.purge_expired()
            if replay := idempotency.stored_answer(user_id, key, request_hash):
                return replay
            task = add_task(fields)
            headers = created_headers(task)
            body = TaskSchema().dump(task)
            idempotency.remember(user_id, key, request_hash, 201, body, headers)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did. With no
        # answer stored, what conflicted was the user, deleted meanwhile.
        return idempotency.stored_answer(user_id, key, request_hash) or user_gone()
    return task, headers


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
    task = one_or_404(task_id)
    if not_modified(task):
        return current_app.response_class(status=304, headers={"ETag": etag(task)})
    return with_etag(task)


@blp.route("/<uuid:task_id>", methods=["PUT"])
@blp.doc(parameters=[IF_MATCH])
@blp.arguments(TaskInputSchema())
@blp.response(200, TaskSchema, headers=ETAG_HEADER)
@blp.problems(400, 401, 403, 404, 412, 413, 415, 503)
def replace_task(fields, user_id, task_id):
    """Replace a task: an omitted description becomes null; `completed` changes if sent."""
    return with_etag(write(task_id, fields))


@blp.route("/<uuid:task_id>", methods=["PATCH"])
@blp.doc(parameters=[IF_MATCH])
@blp.arguments(TaskChangesSchema())
@blp.response(200, TaskSchema, headers=ETAG_HEADER)
@blp.problems(400, 401, 403, 404, 412, 413, 415, 503)
def update_task(fields, user_id, task_id):
    """Change only the fields sent."""
    return with_etag(write(task_id, fields))


@blp.route("/<uuid:task_id>/complete", methods=["PATCH"])
@blp.doc(parameters=[IF_MATCH])
@blp.arguments(CompletionSchema(), required=False)
@blp.response(200, TaskSchema, headers=ETAG_HEADER)
@blp.problems(400, 401, 403, 404, 412, 413, 415, 503)
def toggle_task(fields, user_id, task_id):
    """Flip `completed` atomically, or set it to the `completed` sent (safe to retry)."""
    if "completed" in fields:
        return with_etag(write(task_id, fields))
    return with_etag(write(task_id, {}, flip=True))


@blp.route("/<uuid:task_id>", methods=["DELETE"])
@blp.doc(parameters=[IF_MATCH])
@blp.response(204)
@blp.problems(401, 403, 404, 412, 503)
def delete_task(user_id, task_id):
    """Delete a task."""
    remove(task_id)
