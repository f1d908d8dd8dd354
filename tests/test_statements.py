"""Round trips per request: each task route runs one statement (the token's standing is a
condition of the route's own statement, and a write's change number is taken by the row's
trigger), and so does reading the account."""

import pytest


def test_each_task_route_is_one_statement(client, user, task, task_url, sent_statements):
    tasks_url = task_url.rsplit("/", 1)[0]
    calls = [
        ("GET", tasks_url, None),
        ("GET", task_url, None),
        ("POST", tasks_url, {"title": "Another"}),
        ("PATCH", task_url, {"title": "Renamed"}),
        ("PUT", task_url, {"title": "Replaced"}),
        ("PATCH", f"{task_url}/complete", None),
        ("DELETE", task_url, None),
        ("POST", f"{task_url}/restore", None),
        ("GET", "/api/auth/me", None),
    ]
    for method, url, body in calls:
        sent_statements.clear()
        answer = client.open(url, method=method, json=body, headers=user["headers"])
        assert answer.status_code < 300, (method, url, answer.get_json())
        assert len(sent_statements) == 1, (method, url, sent_statements)


def test_a_list_not_modified_is_one_read_and_no_page(client, user, task, sent_statements):
    """304 is decided by reading the user's change number, before any page or count."""
    tasks_url = f"/api/{user['user_id']}/tasks"
    for query in ("", "?limit=1&sort=-title", "?deleted=true", "?q=milk&completed=false"):
        etag = client.get(tasks_url + query, headers=user["headers"]).headers["ETag"]
        sent_statements.clear()
        answer = client.get(tasks_url + query, headers={**user["headers"], "If-None-Match": etag})
        assert answer.status_code == 304, query
        assert answer.headers["ETag"] == etag
        [statement] = sent_statements
        assert "LIMIT" not in statement and "ORDER BY" not in statement


def test_an_empty_feed_poll_is_one_read(client, user, task, sent_statements):
    changes_url = f"/api/{user['user_id']}/changes"
    cursor = client.get(changes_url, headers=user["headers"]).get_json()["next"]
    sent_statements.clear()
    answer = client.get(changes_url, query_string={"since": cursor}, headers=user["headers"])
    assert answer.get_json()["tasks"] == [] and answer.get_json()["deleted"] == []
    assert len(sent_statements) == 1


def new_task(client, user, **fields) -> dict:
    answer = client.post(
        f"/api/{user['user_id']}/tasks", json={"title": "Plan", **fields}, headers=user["headers"]
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def new_list(client, user) -> str:
    made = client.post(
        f"/api/{user['user_id']}/lists", json={"name": "Home"}, headers=user["headers"]
    )
    return made.get_json()["id"]


WEEKLY = {"due": {"date": "2027-01-04"}, "recurrence": {"rule": "FREQ=WEEKLY"}}
# Each write's request: (method, path after the task's URL, body), given the task, a list and
# another task; and what the task is made with.
WRITES = {
    "patch title": ({}, lambda t, lst, other: ("PATCH", "", {"title": "Renamed"})),
    "patch labels": ({}, lambda t, lst, other: ("PATCH", "", {"labels": ["home", "Errand"]})),
    "patch list": ({}, lambda t, lst, other: ("PATCH", "", {"list_id": lst})),
    "patch parent": ({}, lambda t, lst, other: ("PATCH", "", {"parent_id": other})),
    "patch due": ({}, lambda t, lst, other: ("PATCH", "", {"due": {"date": "2027-01-04"}})),
    "patch labels, list and due": (
        {},
        lambda t, lst, other: (
            "PATCH",
            "",
            {"labels": ["home"], "list_id": lst, "due": {"date": "2027-01-04"}},
        ),
    ),
    "put with labels": ({}, lambda t, lst, other: ("PUT", "", {"title": "Put", "labels": ["a"]})),
    "toggle": ({}, lambda t, lst, other: ("PATCH", "/complete", None)),
    "complete a recurring task": (WEEKLY, lambda t, lst, other: ("PATCH", "/complete", None)),
    "complete an occurrence": (
        WEEKLY,
        lambda t, lst, other: (
            "PATCH",
            "/complete",
            {"completed": True, "occurrence": "2027-01-04"},
        ),
    ),
    "move": ({}, lambda t, lst, other: ("POST", "/move", {"before": other})),
    "delete": ({}, lambda t, lst, other: ("DELETE", "", None)),
    "purge": ({}, lambda t, lst, other: ("DELETE", "?purge=true", None)),
}
# Statements each write sent on PostgreSQL before the write pipeline (todo/tasks/writes.py);
# it may send fewer, never more. SQLite begins a transaction with a statement of its own
# (BEGIN IMMEDIATE); PostgreSQL's BEGIN is psycopg2's.
STATEMENTS = {
    "patch title": 1,
    "patch labels": 8,
    "patch list": 4,
    "patch parent": 4,
    "patch due": 3,
    "patch labels, list and due": 13,
    "put with labels": 8,
    "toggle": 1,
    "complete a recurring task": 6,
    "complete an occurrence": 4,
    "move": 8,
    "delete": 1,
    "purge": 6,
}


@pytest.mark.parametrize("shape", WRITES)
def test_each_write_shape_sends_as_many_statements_as_before(
    client, user, database_kind, sent_statements, shape
):
    made_with, request_of = WRITES[shape]
    task = new_task(client, user, **made_with)
    other = new_task(client, user)["id"]
    method, suffix, body = request_of(task, new_list(client, user), other)
    sent_statements.clear()
    url = f"/api/{user['user_id']}/tasks/{task['id']}{suffix}"
    answer = client.open(url, method=method, json=body, headers=user["headers"])
    assert answer.status_code < 300, answer.get_json()
    began = 1 if database_kind == "sqlite" and STATEMENTS[shape] > 1 else 0
    assert len(sent_statements) <= STATEMENTS[shape] + began, sent_statements
