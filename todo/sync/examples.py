"""What the sync routes' documentation shows: batches that work as they are in /docs' "Try it
out" (after the create-task "chosenId" example made its task), and the problems the feed and
the batch answer, worded as they answer them (tests/test_examples.py sends and compares)."""

from ..errors import example, invalid_example, problem_example
from ..idempotency import KeyReused
from ..tasks.examples import CHOSEN_TASK_ID, NO_TASK_ID
from ..tasks.rows import IdConflict, TaskChanged, TaskGone, TaskNotFound
from .store import CursorExpired, InvalidCursor

BATCH_FAILED = "/problems/batch-failed"
# The id the "atomic" example creates its task with.
BATCH_TASK_ID = "3b9e4d21-7c5a-4f86-b0e2-8a1d6c4f9e73"

FEED_PROBLEMS = {
    400: {"invalidCursor": problem_example(400, str(InvalidCursor()))},
    410: {
        "cursorExpired": problem_example(410, str(CursorExpired()), type="/problems/cursor-expired")
    },
}

BATCH = {
    "atomic": example(
        "All or nothing: a task made, changed and completed, the chosenId example's task renamed",
        {
            "operations": [
                {"op": "create", "task": {"id": BATCH_TASK_ID, "title": "Pack the bags"}},
                {"op": "patch", "id": BATCH_TASK_ID, "changes": {"priority": 3}},
                {"op": "complete", "id": BATCH_TASK_ID, "completed": True},
                {"op": "patch", "id": CHOSEN_TASK_ID, "changes": {"title": "Buy oat milk"}},
            ]
        },
    ),
    "eachOnItsOwn": example(
        "Each on its own: a task made, and a delete of no task (a 404 in its results)",
        {
            "atomic": False,
            "operations": [
                {"op": "create", "task": {"title": "Unpack"}},
                {"op": "delete", "id": NO_TASK_ID},
            ],
        },
    ),
    "taskNotFound": example(
        "All or nothing, the second operation names no task: nothing is written",
        {
            "operations": [
                {"op": "create", "task": {"title": "Unpack"}},
                {"op": "complete", "id": NO_TASK_ID},
            ]
        },
    ),
    "emptyTitle": example(
        "All or nothing, the first operation's title is empty: nothing is written",
        {"operations": [{"op": "create", "task": {"title": "   "}}]},
    ),
}


def failed(status: int, error: Exception, index: int) -> dict:
    return problem_example(status, str(error), type=BATCH_FAILED, index=index)


BATCH_PROBLEMS = {
    404: {"taskNotFound": failed(404, TaskNotFound(), 1)},
    409: {
        "idTaken": failed(409, IdConflict(), 0),
        "keyReused": problem_example(409, str(KeyReused())),
    },
    410: {"taskGone": failed(410, TaskGone(), 0)},
    412: {"taskChanged": failed(412, TaskChanged(), 2)},
    422: {
        "emptyTitle": invalid_example(
            "The request has invalid fields.",
            {"task.title": ["Length must be between 1 and 500."]},
            type=BATCH_FAILED,
            index=0,
        )
    },
}
