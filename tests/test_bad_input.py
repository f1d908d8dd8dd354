"""Bad input gets its contract status and a problem body, and the database stays unchanged."""

import pytest

from tests.conftest import assert_problem


def test_malformed_json_is_400(client, user, tasks_url, stored_tasks):
    answer = client.post(
        tasks_url, data='{"title": ', content_type="application/json", headers=user["headers"]
    )
    assert assert_problem(answer, 400)["detail"] == "The request body is not valid JSON."
    assert stored_tasks() == []


def test_json_nested_too_deep_is_400(client, user, tasks_url, stored_tasks):
    answer = client.post(
        tasks_url, data="[" * 50_000, content_type="application/json", headers=user["headers"]
    )
    assert_problem(answer, 400)
    assert stored_tasks() == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_body_that_is_not_json_is_415(client, user, tasks_url, stored_tasks, content_type):
    answer = client.post(
        tasks_url, data='{"title": "x"}', content_type=content_type, headers=user["headers"]
    )
    assert_problem(answer, 415)
    assert stored_tasks() == []


def test_body_over_64_kib_is_413(client, user, tasks_url, stored_tasks):
    answer = client.post(
        tasks_url, json={"title": "x", "description": "d" * 70_000}, headers=user["headers"]
    )
    assert_problem(answer, 413)
    assert stored_tasks() == []


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"title": ["Missing data for required field."]}),
        ({"title": ""}, {"title": ["Length must be between 1 and 500."]}),
        ({"title": "   "}, {"title": ["Length must be between 1 and 500."]}),
        ({"title": "x" * 501}, {"title": ["Length must be between 1 and 500."]}),
        ({"title": 5}, {"title": ["Not a valid string."]}),
        ({"title": None}, {"title": ["Field may not be null."]}),
        (
            {"title": "x", "description": "d" * 10_001},
            {"description": ["Longer than maximum length 10000."]},
        ),
        ({"title": "x", "description": 7}, {"description": ["Not a valid string."]}),
        (
            {"title": "x", "completed": "yes"},
            {"completed": ["Not a valid boolean: use true or false."]},
        ),
        (
            {"title": "x", "completed": "true"},
            {"completed": ["Not a valid boolean: use true or false."]},
        ),
        (
            {"title": "x", "completed": 1},
            {"completed": ["Not a valid boolean: use true or false."]},
        ),
        ({"title": "x", "completed": None}, {"completed": ["Field may not be null."]}),
        ({"title": "x", "id": "abc"}, {"id": ["Not a valid UUID."]}),
        ({"title": "x", "version": 3}, {"version": ["Unknown field."]}),
        ({"title": "x", "deleted_at": None}, {"deleted_at": ["Unknown field."]}),
        ({"title": "x", "user_id": "abc"}, {"user_id": ["Unknown field."]}),
        ({"title": "x", "created_at": "2026-01-01T00:00:00Z"}, {"created_at": ["Unknown field."]}),
        (["title"], {"_schema": ["Invalid input type."]}),
    ],
)
def test_invalid_task_fields_are_422_with_messages_per_field(
    client, user, tasks_url, stored_tasks, body, errors
):
    answer = client.post(tasks_url, json=body, headers=user["headers"])
    assert assert_problem(answer, 422)["errors"] == errors
    assert stored_tasks() == []


def test_invalid_replacement_is_422_and_leaves_the_task(client, user, task, stored_tasks):
    answer = client.put(
        f"/api/{user['user_id']}/tasks/{task['id']}",
        json={"title": "", "description": "new"},
        headers=user["headers"],
    )
    assert assert_problem(answer, 422)["errors"] == {"title": ["Length must be between 1 and 500."]}
    [row] = stored_tasks()
    assert (row.title, row.description) == (task["title"], task["description"])


def test_title_of_500_characters_is_accepted(client, user, tasks_url):
    answer = client.post(tasks_url, json={"title": "x" * 500}, headers=user["headers"])
    assert answer.status_code == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/{user_id}/tasks/not-a-uuid"),
        ("PUT", "/api/{user_id}/tasks/not-a-uuid"),
        ("PATCH", "/api/{user_id}/tasks/123/complete"),
    ],
)
def test_malformed_ids_are_404(client, user, method, path):
    url = path.format(user_id=user["user_id"])
    answer = client.open(url, method=method, json={"title": "x"}, headers=user["headers"])
    assert_problem(answer, 404)


@pytest.mark.parametrize("user_id", ["undefined", "not-a-uuid", "null"])
def test_a_url_user_that_is_not_a_uuid_is_somebody_elses_url(client, user, user_id):
    """A client bug such as `/api/undefined/tasks`: 401 without a token, 403 with one."""
    url = f"/api/{user_id}/tasks"
    assert_problem(client.get(url), 401)
    answer = client.get(url, headers=user["headers"])
    assert assert_problem(answer, 403)["detail"] == "The token does not belong to this user."
    assert_problem(client.post(url, json={"title": "x"}, headers=user["headers"]), 403)


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_the_bearer_scheme_is_case_insensitive(client, user, scheme):
    headers = {"Authorization": f"{scheme} {user['token']}"}
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    assert client.get(f"/api/{user['user_id']}/tasks", headers=headers).status_code == 200


def test_toggle_with_a_json_content_type_and_no_body_flips(client, user, task, task_url):
    """What openapi-python-client and Swagger UI send for a plain toggle."""
    answer = client.patch(
        f"{task_url}/complete", data="", content_type="application/json", headers=user["headers"]
    )
    assert answer.status_code == 200
    assert answer.get_json()["completed"] is True


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_a_change_without_a_body_is_400_and_changes_nothing(client, user, task, task_url, method):
    answer = client.open(task_url, method=method, headers=user["headers"])
    assert assert_problem(answer, 400)["detail"] == "This request needs a JSON body."
    empty = client.open(
        task_url, method=method, data="  ", content_type="application/json", headers=user["headers"]
    )
    assert_problem(empty, 400)
    assert client.get(task_url, headers=user["headers"]).get_json() == task


def test_unknown_task_id_is_404(client, user, tasks_url):
    answer = client.get(
        f"{tasks_url}/00000000-0000-4000-8000-000000000000", headers=user["headers"]
    )
    assert assert_problem(answer, 404)["detail"] == "Task not found"


def test_unsupported_method_is_405_with_allow(client, user, tasks_url):
    answer = client.delete(tasks_url, headers=user["headers"])
    assert_problem(answer, 405)
    assert "POST" in answer.headers["Allow"]


def test_unknown_route_is_404_problem(client):
    assert_problem(client.get("/nowhere"), 404)


def test_a_body_with_thousands_of_unknown_fields_gets_a_short_422(client, user, tasks_url):
    body = {"title": "x", **{f"f{n}": 0 for n in range(6000)}}
    answer = client.post(tasks_url, json=body, headers=user["headers"])
    problem = assert_problem(answer, 422)
    assert len(problem["errors"]) == 20
    assert problem["detail"] == (
        "The request has invalid fields: 6000 of them; the first 20 are listed."
    )
    assert len(answer.data) < 2000
