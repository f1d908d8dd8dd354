"""What the task routes' documentation shows: request bodies that work as they are in /docs'
"Try it out", and the problems each route answers, worded as it answers them
(tests/test_examples.py sends every one and compares)."""

from ..errors import example, invalid_example, problem_example
from ..idempotency import KeyReused
from . import assignees, positions
from .positions import BadNeighbour, StaleOrder
from .rows import IdConflict, TaskChanged, TaskGone, TaskNotFound
from .trash import ParentInTrash

# The id the "chosenId" example creates its task with; other examples name that task.
CHOSEN_TASK_ID = "6f1c2a7e-8d4b-4e0a-9c3f-2b5d7e9a1c40"
NO_TASK_ID = "00000000-0000-4000-8000-000000000000"

# A task route's own problems, whichever route answers them.
TASK_PROBLEMS = {
    404: {"taskNotFound": problem_example(404, str(TaskNotFound()))},
    410: {"taskGone": problem_example(410, str(TaskGone()))},
    412: {"taskChanged": problem_example(412, str(TaskChanged()))},
}
EMPTY_TITLE = invalid_example(
    "A title of nothing but spaces", {"title": ["Length must be between 1 and 500."]}
)
# Someone who is neither the task's owner nor a member of its list (docs/sharing.md).
STRANGER_ID = "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a"
NOT_ASSIGNABLE = invalid_example(
    "Assigned to someone who is neither its owner nor a member of its list",
    {"assignee_id": [assignees.NOT_ASSIGNABLE]},
)

NEW_TASK = {
    "chosenId": example(
        "A task whose id the client chose: retried with the same body, it answers the same",
        {"id": CHOSEN_TASK_ID, "title": "Buy milk", "labels": ["errands"]},
    ),
    "zoned": example(
        "Due at a time in a time zone, with a reminder before it and labels",
        {
            "title": "Call the bank",
            "description": "About the new card",
            "priority": 2,
            "due": {"date": "2026-12-24", "time": "09:30", "timezone": "Europe/Paris"},
            "reminders": [{"before": "PT15M"}],
            "labels": ["errands", "phone"],
        },
    ),
    "recurring": example(
        "All day, every other week",
        {
            "title": "Water the plants",
            "due": {"date": "2026-12-24"},
            "recurrence": {"rule": "FREQ=WEEKLY;INTERVAL=2"},
        },
    ),
    "subtask": example(
        "A subtask of the chosenId example's task, first among its subtasks",
        {"title": "Oat milk", "parent_id": CHOSEN_TASK_ID},
    ),
    "idTaken": example(
        "The chosenId example's id again, with another body", {"id": CHOSEN_TASK_ID, "title": "Tea"}
    ),
    "emptyTitle": example("A title of nothing but spaces", {"title": "   "}),
    "notAssignable": example(
        "Assigned to someone who is neither its owner nor a member of its list",
        {"title": "Take out the bins", "assignee_id": STRANGER_ID},
    ),
}
NEW_TASK_PROBLEMS = {
    409: {
        "idTaken": problem_example(409, str(IdConflict()), type="/problems/id-conflict"),
        "keyReused": problem_example(409, str(KeyReused())),
    },
    422: {"emptyTitle": EMPTY_TITLE, "notAssignable": NOT_ASSIGNABLE},
}

WHOLE_TASK = {
    "whole": example(
        "All of a task: what is left out of description becomes null",
        {
            "title": "Buy oat milk",
            "completed": False,
            "priority": 1,
            "due": {"at": "2026-12-24T17:30:00Z", "timezone": "Europe/Paris"},
        },
    ),
    "emptyTitle": example("A title of nothing but spaces", {"title": "   "}),
}
TASK_CHANGES = {
    "rename": example("A new title; nothing else changes", {"title": "Buy oat milk"}),
    "dueAllDay": example(
        "A due date, then the same day all day (its time and zone removed)",
        {"due": {"date": "2026-12-24", "time": None}},
    ),
    "noDue": example("No due date any more", {"due": None}),
    "unassigned": example("Assigned to nobody", {"assignee_id": None}),
    "emptyTitle": example("A title of nothing but spaces", {"title": "   "}),
    "notAssignable": example(
        "Assigned to someone who is neither its owner nor a member of its list",
        {"assignee_id": STRANGER_ID},
    ),
}
INVALID_TASK = {422: {"emptyTitle": EMPTY_TITLE, "notAssignable": NOT_ASSIGNABLE}}

COMPLETION = {
    "complete": example("Completed, whatever it was (safe to retry)", {"completed": True}),
    "reopen": example(
        "Open again (a recurring task: its last roll-over undone)", {"completed": False}
    ),
}
MOVE = {
    "toTheEnd": example("At the end of its list's order", {}),
    "toTheInbox": example("Into the Inbox, at its end", {"list_id": None}),
}
MOVE_PROBLEMS = {
    409: {
        "staleOrder": problem_example(409, str(StaleOrder()), type="/problems/stale-order"),
        "parentInTrash": problem_example(
            409, str(ParentInTrash()), type="/problems/parent-in-trash"
        ),
    },
    422: {
        "nextToItself": invalid_example(
            "Placed next to itself", BadNeighbour("after").normalized_messages()
        ),
        "otherScope": invalid_example(
            "A neighbour in another list",
            BadNeighbour("before", positions.OTHER_SCOPE.format("list_id")).normalized_messages(),
        ),
    },
}
RESTORE_PROBLEMS = {
    409: {
        "parentInTrash": problem_example(
            409, str(ParentInTrash()), type="/problems/parent-in-trash"
        )
    }
}
