"""What the list routes' documentation shows: request bodies that work as they are in /docs'
"Try it out", and the problems each route answers, worded as it answers them
(tests/test_examples.py sends every one and compares)."""

from ..errors import example, invalid_example, problem_example
from ..tasks.positions import StaleOrder
from .store import ListChanged, ListGone, ListIdConflict, ListNotFound, TooManyLists

# The id the "chosenId" example creates its list with.
CHOSEN_LIST_ID = "9d2f6b3a-1e4c-4a7b-8f05-c3e1a9b7d264"

LIST_PROBLEMS = {
    404: {"listNotFound": problem_example(404, str(ListNotFound()))},
    410: {"listGone": problem_example(410, str(ListGone()))},
    412: {"listChanged": problem_example(412, str(ListChanged()))},
}
EMPTY_NAME = invalid_example(
    "A name of nothing but spaces", {"name": ["Length must be between 1 and 100."]}
)

NEW_LIST = {
    "chosenId": example(
        "A list whose id the client chose: retried with the same body, it answers the same",
        {"id": CHOSEN_LIST_ID, "name": "Groceries"},
    ),
    "named": example("A list at the end of the user's lists", {"name": "Errands"}),
    "idTaken": example(
        "The chosenId example's id again, with another name",
        {"id": CHOSEN_LIST_ID, "name": "Chores"},
    ),
    "emptyName": example("A name of nothing but spaces", {"name": "   "}),
}
NEW_LIST_PROBLEMS = {
    409: {"idTaken": problem_example(409, str(ListIdConflict()), type="/problems/id-conflict")},
    422: {
        "emptyName": EMPTY_NAME,
        "tooManyLists": problem_example(422, str(TooManyLists()), type="/problems/too-many-lists"),
    },
}
LIST_CHANGES = {
    "rename": example("A new name", {"name": "Weekly groceries"}),
    "position": example("A position the client computed", {"position": "a0V"}),
    "emptyName": example("A name of nothing but spaces", {"name": "   "}),
}
INVALID_LIST = {422: {"emptyName": EMPTY_NAME}}
LIST_MOVE = {"toTheEnd": example("At the end of the user's lists", {})}
STALE_ORDER = {
    409: {"staleOrder": problem_example(409, str(StaleOrder()), type="/problems/stale-order")}
}
