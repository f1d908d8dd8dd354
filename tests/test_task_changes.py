"""PATCH changes only what is sent; completion can be set as well as flipped; `updated_at`
moves on every change and only then."""

import pytest


def test_patch_changes_only_the_fields_sent(client, user, task, task_url, stored_tasks):
    answer = client.patch(task_url, json={"completed": True}, headers=user["headers"])
    assert answer.status_code == 200
    changed = answer.get_json()
    assert changed["completed"] is True
    assert (changed["title"], changed["description"]) == (task["title"], task["description"])
    [row] = stored_tasks()
    assert (row.title, row.description, row.completed) == (task["title"], task["description"], True)


def test_patch_can_clear_the_description(client, user, task_url):
    answer = client.patch(task_url, json={"description": None}, headers=user["headers"])
    assert answer.get_json()["description"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"completed": "true"}, "completed"),
        ({"id": "x"}, "id"),
    ],
)
def test_patch_validates_like_create(client, user, task, task_url, stored_tasks, body, field):
    answer = client.patch(task_url, json=body, headers=user["headers"])
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]) == [field]
    [row] = stored_tasks()
    assert (row.title, row.completed) == (task["title"], False)


def test_put_keeps_completed_when_not_sent(client, user, task_url):
    client.patch(f"{task_url}/complete", headers=user["headers"])
    answer = client.put(task_url, json={"title": "New"}, headers=user["headers"])
    assert answer.get_json()["completed"] is True


@pytest.mark.parametrize("value", [True, False])
def test_complete_with_a_value_sets_it_and_is_safe_to_retry(client, user, task_url, value):
    for _ in range(3):
        answer = client.patch(
            f"{task_url}/complete", json={"completed": value}, headers=user["headers"]
        )
        assert answer.status_code == 200
        assert answer.get_json()["completed"] is value


def test_complete_with_a_non_boolean_is_422(client, user, task_url):
    answer = client.patch(
        f"{task_url}/complete", json={"completed": "yes"}, headers=user["headers"]
    )
    assert answer.status_code == 422


def test_updated_at_stays_when_nothing_changes(client, user, task, task_url):
    unchanged = [
        client.patch(task_url, json={}, headers=user["headers"]),
        client.patch(task_url, json={"title": task["title"]}, headers=user["headers"]),
        client.put(
            task_url,
            json={"title": task["title"], "description": task["description"]},
            headers=user["headers"],
        ),
        client.patch(f"{task_url}/complete", json={"completed": False}, headers=user["headers"]),
    ]
    for answer in unchanged:
        assert answer.status_code == 200
        assert answer.get_json()["updated_at"] == task["updated_at"]
        assert answer.headers["ETag"] == unchanged[0].headers["ETag"]


def test_updated_at_moves_on_each_change_and_created_at_never(client, user, task, task_url):
    stamps = [task["updated_at"]]
    for call in (
        lambda: client.patch(task_url, json={"title": "Other"}, headers=user["headers"]),
        lambda: client.put(task_url, json={"title": "Other"}, headers=user["headers"]),
        lambda: client.patch(f"{task_url}/complete", headers=user["headers"]),
    ):
        body = call().get_json()
        assert body["created_at"] == task["created_at"]
        stamps.append(body["updated_at"])
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 4
