"""The spec's walkthrough (Steps 10 and 11), call by call."""

from datetime import datetime

import jwt


def test_signup_answers_the_new_account(client):
    answer = client.post(
        "/api/auth/signup", json={"email": "test@example.com", "password": "password123"}
    )
    assert answer.status_code == 201
    body = answer.get_json()
    assert set(body) == {"user_id", "email", "created_at", "timezone"}
    assert (body["email"], body["timezone"]) == ("test@example.com", None)


def test_login_answers_a_bearer_token_for_seven_days(client, user):
    assert user["token_type"] == "bearer"
    claims = jwt.decode(user["token"], options={"verify_signature": False})
    assert claims["sub"] == user["user_id"]
    expires = datetime.fromisoformat(user["expires_at"])
    assert expires.timestamp() == claims["exp"]
    me = client.get("/api/auth/me", headers=user["headers"]).get_json()
    created = datetime.fromisoformat(me["created_at"])
    assert 6.99 < (expires - created).total_seconds() / 86400 <= 7.01


def test_create_task_answers_the_task_with_its_location(client, user, stored_tasks):
    answer = client.post(
        f"/api/{user['user_id']}/tasks",
        json={"title": "Buy groceries", "description": "Milk, eggs, bread"},
        headers=user["headers"],
    )
    assert answer.status_code == 201
    task = answer.get_json()
    assert task["title"] == "Buy groceries"
    assert task["description"] == "Milk, eggs, bread"
    assert task["completed"] is False
    assert task["user_id"] == user["user_id"]
    assert task["created_at"] == task["updated_at"]
    assert task["created_at"].endswith("Z")
    assert answer.headers["Location"] == f"/api/{user['user_id']}/tasks/{task['id']}"
    [row] = stored_tasks()
    assert str(row.id) == task["id"]


def test_create_task_trims_the_title(client, user):
    answer = client.post(
        f"/api/{user['user_id']}/tasks", json={"title": "  Walk  "}, headers=user["headers"]
    )
    assert answer.get_json()["title"] == "Walk"
    assert answer.get_json()["description"] is None


def test_list_tasks_answers_the_users_tasks_oldest_first(client, user):
    url = f"/api/{user['user_id']}/tasks"
    titles = ["first", "second", "third"]
    for title in titles:
        client.post(url, json={"title": title}, headers=user["headers"])
    answer = client.get(url, headers=user["headers"])
    assert answer.status_code == 200
    assert [task["title"] for task in answer.get_json()] == titles


def test_get_task_answers_it(client, user, task):
    answer = client.get(f"/api/{user['user_id']}/tasks/{task['id']}", headers=user["headers"])
    assert answer.status_code == 200
    assert answer.get_json() == task


def test_update_task_replaces_title_and_description(client, user, task, stored_tasks):
    answer = client.put(
        f"/api/{user['user_id']}/tasks/{task['id']}",
        json={"title": "Buy organic groceries"},
        headers=user["headers"],
    )
    assert answer.status_code == 200
    updated = answer.get_json()
    assert updated["title"] == "Buy organic groceries"
    assert updated["description"] is None
    assert updated["created_at"] == task["created_at"]
    assert updated["updated_at"] > task["updated_at"]
    [row] = stored_tasks()
    assert (row.title, row.description) == ("Buy organic groceries", None)


def test_toggle_task_flips_completed_each_time(client, user, task):
    url = f"/api/{user['user_id']}/tasks/{task['id']}/complete"
    first = client.patch(url, headers=user["headers"])
    assert first.status_code == 200
    assert first.get_json()["completed"] is True
    assert first.get_json()["updated_at"] > task["updated_at"]
    assert client.patch(url, headers=user["headers"]).get_json()["completed"] is False


def test_delete_task_answers_204_and_moves_it_to_the_trash(client, user, task, stored_tasks):
    url = f"/api/{user['user_id']}/tasks/{task['id']}"
    answer = client.delete(url, headers=user["headers"])
    assert answer.status_code == 204
    assert answer.data == b""
    [trashed] = stored_tasks()
    assert trashed.deleted_at is not None
    assert client.get(url, headers=user["headers"]).status_code == 404
    assert client.get(url.rsplit("/", 1)[0], headers=user["headers"]).get_json() == []


def test_delete_with_purge_removes_it_for_good(client, user, task, stored_tasks):
    url = f"/api/{user['user_id']}/tasks/{task['id']}"
    assert client.delete(f"{url}?purge=true", headers=user["headers"]).status_code == 204
    assert stored_tasks() == []
    assert client.get(url, headers=user["headers"]).status_code == 404


def test_second_user_sees_an_empty_list(client, task, other_user):
    answer = client.get(f"/api/{other_user['user_id']}/tasks", headers=other_user["headers"])
    assert answer.status_code == 200
    assert answer.get_json() == []


def test_second_user_cannot_read_first_users_task_through_their_url(client, user, task, other_user):
    answer = client.get(f"/api/{user['user_id']}/tasks/{task['id']}", headers=other_user["headers"])
    assert answer.status_code == 403


def test_second_user_cannot_read_first_users_task_through_own_url(client, task, other_user):
    answer = client.get(
        f"/api/{other_user['user_id']}/tasks/{task['id']}", headers=other_user["headers"]
    )
    assert answer.status_code == 404
    assert answer.get_json()["detail"] == "Task not found"
