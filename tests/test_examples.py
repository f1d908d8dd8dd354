"""Every example the OpenAPI document shows is what the API does. Each request example, sent to
its route as /docs' "Try it out" sends it, gets the documented success, or the error whose
example bears its name, body for body. The errors every client meets (no token, another
user's URL, an unknown id, a stale If-Match, a body that is not JSON, is broken or is too
large, an unknown query parameter) are answered with one of that operation's own examples."""

from dataclasses import dataclass

import pytest

from config import TestingConfig
from todo import create_app

# The document needs no database: read it from an app that never opens one.
DOCUMENT = create_app(TestingConfig("sqlite://")).test_client().get("/openapi.json").get_json()
NO_ID = "00000000-0000-4000-8000-000000000000"


def operations():
    for path, methods in DOCUMENT["paths"].items():
        for method, operation in methods.items():
            if method != "parameters":
                yield path, method, operation


OPERATIONS = {operation["operationId"]: (path, method) for path, method, operation in operations()}


def operation_of(operation_id: str) -> dict:
    path, method = OPERATIONS[operation_id]
    return DOCUMENT["paths"][path][method]


def request_examples(operation: dict) -> dict:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    return body.get("examples", {})


def error_examples(operation: dict, status: str) -> dict:
    """The examples of an error answer, the operation's own or its shared component's."""
    answer = operation["responses"][status]
    if "$ref" in answer:
        answer = DOCUMENT["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    content = answer["content"]["application/problem+json"]
    if "example" in content:
        return {"example": {"value": content["example"]}}
    return content["examples"]


def documented_answer(operation: dict, name: str) -> tuple[int, dict | None]:
    """The status a request example gets, and the body, for an error's example of its name."""
    for status in operation["responses"]:
        if status >= "400" and name in error_examples(operation, status):
            return int(status), error_examples(operation, status)[name]["value"]
    return min(int(status) for status in operation["responses"] if status.startswith("2")), None


def example_value(operation_id: str, name: str) -> dict:
    return request_examples(operation_of(operation_id))[name]["value"]


@dataclass(frozen=True)
class World:
    """A user, with the task and the list the create examples named "chosenId" make (other
    examples name them), the task carrying a label, and the list shared with a member."""

    user_id: str
    headers: dict
    task: dict
    list_id: str
    member_id: str
    endpoint_id: str

    def url(self, path: str, **replaced: str) -> str:
        values = {
            "user_id": self.user_id,
            "task_id": self.task["id"],
            "list_id": self.list_id,
            "endpoint_id": self.endpoint_id,
            "name": self.task["labels"][0],
            "member_id": self.member_id,
            "invitation_id": NO_ID,
            "owner_id": NO_ID,
            "subscription_id": NO_ID,
            "job_id": NO_ID,
            "secret": "not-a-secret",
            **replaced,
        }
        for name, value in values.items():
            path = path.replace(f"{{{name}}}", value)
        return path


@pytest.fixture
def world(client):
    credentials = example_value("login", "credentials")
    assert client.post("/api/auth/signup", json=credentials).status_code == 201
    token = client.post("/api/auth/login", json=credentials).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    tasks, lists = (f"/api/{token['user_id']}/{kind}" for kind in ("tasks", "lists"))
    task = client.post(tasks, json=example_value("createTask", "chosenId"), headers=headers)
    listed = client.post(lists, json=example_value("createList", "chosenId"), headers=headers)
    assert (task.status_code, listed.status_code) == (201, 201)
    list_id = listed.get_json()["id"]
    member = {"email": "member@example.com", "password": credentials["password"]}
    assert client.post("/api/auth/signup", json=member).status_code == 201
    joined = client.post("/api/auth/login", json=member).get_json()
    invited = client.post(
        f"{lists}/{list_id}/invitations",
        json={"email": member["email"], "role": "editor"},
        headers=headers,
    ).get_json()
    accepted = client.post(
        f"/api/{joined['user_id']}/invitations/{invited['id']}/accept",
        headers={"Authorization": f"Bearer {joined['token']}"},
    )
    assert accepted.status_code == 204
    hooks = f"/api/{token['user_id']}/webhooks"
    hook = client.post(hooks, json=example_value("createWebhook", "endpoint"), headers=headers)
    assert hook.status_code == 201
    endpoint_id = hook.get_json()["id"]
    return World(
        token["user_id"], headers, task.get_json(), list_id, joined["user_id"], endpoint_id
    )


def every_request_example():
    for operation_id, (path, method) in OPERATIONS.items():
        for name in request_examples(DOCUMENT["paths"][path][method]):
            yield pytest.param(operation_id, name, id=f"{operation_id}-{name}")


def test_every_request_body_has_examples():
    """/docs' "Try it out" starts from the first example, not one made from the schema (which
    picked random ids, `due: {}` and a reminder both before and at)."""
    for path, method, operation in operations():
        if "requestBody" in operation:
            assert request_examples(operation), (path, method)


@pytest.mark.parametrize(("operation_id", "name"), list(every_request_example()))
def test_a_request_example_gets_what_the_document_says(client, world, operation_id, name):
    path, method = OPERATIONS[operation_id]
    operation = operation_of(operation_id)
    status, problem = documented_answer(operation, name)
    answer = client.open(
        world.url(path),
        method=method,
        json=example_value(operation_id, name),
        headers=world.headers,
    )
    assert answer.status_code == status, answer.get_data(as_text=True)
    if problem is not None:
        assert answer.get_json() == problem


def first_success(operation: dict) -> dict | None:
    """The body of the operation's first example that succeeds (None without a body)."""
    for name, example in request_examples(operation).items():
        if documented_answer(operation, name)[1] is None:
            return example["value"]
    return None


def mistakes(path: str, operation: dict):
    """(what is wrong, how the request is changed, the status it gets) for each mistake
    this operation can be sent with."""
    parameters = {parameter["name"]: parameter for parameter in operation.get("parameters", [])}
    if operation.get("security") != []:
        yield "no token", {"headers": {}}, 401
    if "{user_id}" in path:
        yield "another user's URL", {"url": {"user_id": NO_ID}}, 403
    for name in ("task_id", "list_id", "name", "endpoint_id", "job_id"):
        if f"{{{name}}}" in path:
            yield f"unknown {name}", {"url": {name: NO_ID}}, 404
    if "If-Match" in parameters:
        yield "stale If-Match", {"extra_headers": {"If-Match": '"999999"'}}, 412
    if any(parameter["in"] == "query" for parameter in parameters.values()):
        yield "unknown query parameter", {"query": "colour=red"}, 400
    if "requestBody" in operation:
        yield "not JSON", {"data": "title", "content_type": "text/plain"}, 415
        # A file an import cannot read is a 422 that says where (a request body's JSON, 400).
        broken = 422 if "/imports" in path else 400
        yield "broken JSON", {"data": '{"title": ', "content_type": "application/json"}, broken
        big = 128 * 1024
        big = 2 * 1024 * 1024 if path.endswith("/batch") else big
        big = 11 * 1024 * 1024 if "/imports" in path else big
        yield "too large", {"data": f'"{"x" * big}"', "content_type": "application/json"}, 413


def every_mistake():
    for operation_id, (path, method) in OPERATIONS.items():
        for what, change, status in mistakes(path, DOCUMENT["paths"][path][method]):
            yield pytest.param(operation_id, change, status, id=f"{operation_id}-{what}")


@pytest.mark.parametrize(("operation_id", "change", "status"), list(every_mistake()))
def test_a_mistake_gets_one_of_the_operations_own_examples(
    client, world, operation_id, change, status
):
    """A task route's 404 says "Task not found", a list route's "List not found"; a route
    with a query answers a query's 400, one with a body a body's."""
    path, method = OPERATIONS[operation_id]
    operation = operation_of(operation_id)
    request = {"json": first_success(operation)}
    if "data" in change:
        request = {"data": change["data"], "content_type": change["content_type"]}
    headers = {**change.get("headers", world.headers), **change.get("extra_headers", {})}
    url = world.url(path, **change.get("url", {}))
    if "query" in change:
        url = f"{url}?{change['query']}"
    answer = client.open(url, method=method, headers=headers, **request)
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert str(status) in operation["responses"], "an answer the document does not list"
    documented = [example["value"] for example in error_examples(operation, str(status)).values()]
    assert answer.get_json() in documented
