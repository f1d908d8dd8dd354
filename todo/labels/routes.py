"""Labels blueprint: the labels a user's tasks carry, renamed or deleted everywhere at once.
The views read the request and answer; the statements (store.py) take the caller and raise,
and the factory maps their errors."""

from flask import g

from ..blueprint import (
    LIST_IF_NONE_MATCH,
    Blueprint,
    conditional_collection_headers,
    revalidated,
    still_fresh,
)
from ..errors import example, invalid_example, problem_example
from ..tasks.changes import current_number
from . import store
from .schemas import LabelRenameSchema, LabelSchema
from .store import LabelNotFound

blp = Blueprint(
    "labels",
    __name__,
    url_prefix="/api/<user_id:user_id>/labels",
    description="The labels a user's tasks carry",
    problem_examples={404: {"labelNotFound": problem_example(404, str(LabelNotFound()))}},
)
RENAME = {
    "rename": example("A new name for the label", {"name": "chores"}),
    "emptyName": example("A name of nothing but spaces", {"name": "   "}),
}
EMPTY_NAME = {
    422: {
        "emptyName": invalid_example(
            "A name of nothing but spaces", {"name": ["A label is 1 to 64 characters, trimmed."]}
        )
    }
}
COLLECTION_HEADERS = conditional_collection_headers(
    "The labels' state, which moves with any change to the user's tasks"
)


@blp.route("", methods=["GET"])
@blp.headers(LIST_IF_NONE_MATCH)
@blp.response(200, LabelSchema(many=True), headers=COLLECTION_HEADERS)
@blp.alt_response(304, description="Not Modified: the labels still have the ETag sent")
@blp.problems(401, 403, 503)
def list_labels(user_id):
    """List the labels the user's tasks carry.

    With how many live tasks carry each, ordered by name (case and width folded). Sent back
    in If-None-Match, the ETag gets 304 until a task changes.
    """
    if fresh := still_fresh("labels", lambda: current_number(g.caller)):
        return fresh
    rows, number = store.all_labels(g.caller)
    return rows, revalidated(f"labels-{number}")


@blp.route("/<path:name>", methods=["PATCH"])
@blp.arguments(LabelRenameSchema(), examples=RENAME)
@blp.response(200, LabelSchema)
@blp.problems(400, 401, 403, 404, 413, 415, 503, examples=EMPTY_NAME)
def rename_label(fields, user_id, name):
    """Rename a label on every task carrying it.

    In one change: the tasks' versions move (an older If-Match gets 412). Onto another
    label's name, the two merge under it. The name in the path matches whatever its case or
    width.
    """
    return store.rename_label(g.caller, name, fields["name"])


@blp.route("/<path:name>", methods=["DELETE"])
@blp.response(204)
@blp.problems(401, 403, 404, 503)
def delete_label(user_id, name):
    """Delete a label.

    It is taken off every task carrying it, in one change, and its spelling is forgotten.
    """
    store.delete_label(g.caller, name)
