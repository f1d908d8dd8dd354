"""What the webhook routes' documentation shows: request bodies that work as they are in
/docs' "Try it out", and the problems each route answers, worded as it answers them
(tests/test_examples.py sends every one and compares)."""

from ..errors import example, problem_example
from .sender import NOT_HTTP, NOT_PUBLIC
from .store import EndpointNotFound, TooManyEndpoints

URL_REFUSED = "/problems/url-refused"
LOOPBACK = "http://127.0.0.1:8080/hooks"
REFUSED = NOT_PUBLIC.format("127.0.0.1")

ENDPOINT_PROBLEMS = {404: {"endpointNotFound": problem_example(404, str(EndpointNotFound()))}}
NEW_ENDPOINT = {
    "endpoint": example(
        "An endpoint sent changes of tasks only",
        {"url": "https://hooks.example.com/todo", "events": ["task"]},
    ),
    "everything": example(
        "An endpoint sent every change", {"url": "https://hooks.example.com/all"}
    ),
    "loopback": example("An address of the server's own networks", {"url": LOOPBACK}),
    "notHttp": example("A URL that is not http(s)", {"url": "ftp://hooks.example.com/todo"}),
}
LOOPBACK_REFUSED = problem_example(
    422, REFUSED, "An address of the server's own networks", type=URL_REFUSED
)
NEW_ENDPOINT_PROBLEMS = {
    422: {
        "loopback": LOOPBACK_REFUSED,
        "notHttp": problem_example(422, NOT_HTTP, "A URL that is not http(s)", type=URL_REFUSED),
        "tooManyEndpoints": problem_example(
            422, str(TooManyEndpoints()), type="/problems/too-many-webhooks"
        ),
    }
}
ENDPOINT_CHANGES = {
    "newUrl": example("A new URL", {"url": "https://hooks.example.com/todo-v2"}),
    "everyKind": example("Every kind of change again", {"events": None}),
    "switchOn": example("Switched on again after it was switched off", {"enabled": True}),
    "loopback": example("An address of the server's own networks", {"url": LOOPBACK}),
}
ENDPOINT_CHANGES_PROBLEMS = {422: {"loopback": LOOPBACK_REFUSED}}
