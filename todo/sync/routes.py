"""Sync blueprint, under /api/<user_id>/: the change feed, emptying the trash, and batches of
writes. The views read the request and answer; the feed's reads (store.py) and the batch
(batch.py) take the caller and raise, and the factory maps their errors."""

from flask import current_app, g, request
from marshmallow import RAISE, ValidationError

from .. import holding, idempotency
from ..blueprint import Blueprint
from ..columns import kept_since
from ..errors import PROBLEM_MIMETYPE, problem, problem_of
from ..idempotency import Answer
from ..sharing import access
from ..tasks import trash as task_trash
from . import batch, examples, store
from .pages import TASK, cursor_key, is_empty, page_answer, wake_keys
from .schemas import (
    BatchResultSchema,
    BatchSchema,
    ChangesQuerySchema,
    ChangesSchema,
    OperationSchema,
)

blp = Blueprint(
    "sync",
    __name__,
    url_prefix="/api/<user_id:user_id>",
    description="Keeping clients in sync: the change feed, the trash, batches of writes",
)

# The status of each operation that succeeds.
SUCCESS = {"create": 201, "delete": 204}
BATCH_FAILED = examples.BATCH_FAILED
OPERATION = OperationSchema()


@blp.before_request
def batch_body_limit():
    """A batch may carry more than other routes: up to 1 MiB (the server allows it too)."""
    if request.endpoint == "sync.run_batch":
        request.max_content_length = current_app.config["BATCH_BODY_LIMIT"]


@blp.route("/changes", methods=["GET"])
@blp.arguments(ChangesQuerySchema(), location="query", unknown=RAISE, error_status_code=400)
@blp.response(200, ChangesSchema)
@blp.problems(401, 403, 410, 429, 503, examples=examples.FEED_PROBLEMS)
def list_changes(query, user_id):
    """List what changed in the user's tasks and lists since a cursor (the change feed).

    Oldest change first; without `since`, every live task and list (a first sync). Follow
    `next` while `has_more`; keep the last `next` for the next sync. 410
    (`/problems/cursor-expired`): the cursor is older than the feed remembers deletions
    (FEED_RETENTION_DAYS); sync again without `since`. With `wait` (seconds, up to 60) and
    nothing new, the answer comes as soon as a change commits (the user's, or one to a list
    shared with them), or after `wait` seconds the empty page; 429 or 503 with `Retry-After`
    when too many are waiting (see [Live](/docs/guides/live.md)).
    """
    since, key = None, cursor_key()
    if "since" in query:
        retention = current_app.config["FEED_RETENTION_DAYS"]
        since = store.cursor_position(query["since"], g.caller.space_id, key, retention)
    changes = store.read_changes(g.caller, since, query["limit"])
    if query["wait"] and is_empty(changes):
        refused = holding.wait(wake_keys(g.caller.space_id, changes.position), query["wait"])
        if refused is not None:
            return problem(
                refused.status, refused.detail, {"Retry-After": str(refused.retry_after)}
            )
    return current_app.json.response(page_answer(changes, g.caller.space_id, key))


@blp.route("/trash", methods=["DELETE"])
@blp.response(204)
@blp.problems(401, 403, 503)
def empty_trash(user_id):
    """Empty the trash.

    Every task in the trash is deleted for good; the feed reports each as purged.
    """
    task_trash.empty_trash(g.caller)


@blp.route("/batch", methods=["POST"])
@blp.headers(idempotency.HEADER)
@blp.arguments(BatchSchema(), examples=examples.BATCH)
@blp.response(200, BatchResultSchema)
@blp.problems(400, 401, 403, 404, 409, 410, 412, 413, 415, 503, examples=examples.BATCH_PROBLEMS)
def run_batch(body, user_id):
    """Apply up to 100 task writes at once, all or nothing (or each on its own).

    In order: a later operation may name an id an earlier create chose. Atomic (the default):
    all with one change number, or none; the answer to a failure is the failed operation's
    status and problem, of type `/problems/batch-failed`, with its `index`. Not atomic: each
    on its own, with a status and a task or problem each. Body up to 1 MiB. A member of a
    list shared with them runs a batch at its owner's URL: each operation as at its own
    route (docs/sharing.md).
    """
    key = access.idempotency_key(
        g.caller, idempotency.checked_key(request.headers.get("Idempotency-Key"))
    )
    keyed = None
    if key is not None:
        keyed = (key, idempotency.fingerprint(request.method, request.path, request.get_json()))
    days = current_app.config["TRASH_RETENTION_DAYS"]
    loaded = [loaded_operation(operation) for operation in body["operations"]]
    asked = batch.Batch(
        loaded, body.get("atomic", True), batch.Trash(days, kept_since(days)), keyed
    )
    try:
        answer = batch.run(g.caller, asked, batch_answer)
    except batch.OperationFailed as failure:
        status, body = problem_of(failure.error)
        body.update(type=BATCH_FAILED, index=failure.index)
        return current_app.response_class(
            current_app.json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE
        )
    response = current_app.json.response(answer.body)
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def loaded_operation(operation: dict) -> dict | batch.Invalid:
    """An operation as its schema loads it (batch.Invalid if it refuses it): checked one at
    a time, so that a non-atomic batch answers each invalid operation on its own."""
    try:
        return OPERATION.load(operation)
    except ValidationError as error:
        return batch.Invalid(str(operation.get("op")), error)


def batch_answer(outcomes: list[batch.Outcome]) -> Answer:
    return Answer(200, {}, {"results": [result_of(outcome) for outcome in outcomes]})


def result_of(outcome: batch.Outcome) -> dict:
    if outcome.error is not None:
        status, body = problem_of(outcome.error)
        return {"status": status, "problem": body}
    if outcome.task is None:
        return {"status": SUCCESS.get(outcome.op, 200)}
    return {"status": SUCCESS.get(outcome.op, 200), "task": TASK.dump(outcome.task)}
