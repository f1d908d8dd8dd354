"""Every task route refuses callers without a token (401) and tokens of another user (403);
another user's task is not found (404) on every single-task route."""

import uuid

import pytest
from flask import url_for

from todo.accounts.models import User
from todo.extensions import db

TASK_ROUTES = [
    ("GET", "/api/{user_id}/tasks"),
    ("POST", "/api/{user_id}/tasks"),
    ("GET", "/api/{user_id}/tasks/{task_id}"),
    ("PUT", "/api/{user_id}/tasks/{task_id}"),
    ("PATCH", "/api/{user_id}/tasks/{task_id}"),
    ("DELETE", "/api/{user_id}/tasks/{task_id}"),
    ("PATCH", "/api/{user_id}/tasks/{task_id}/complete"),
]
SINGLE_TASK_ROUTES = [route for route in TASK_ROUTES if "{task_id}" in route[1]]


def call(client, method, path, headers=None):
    """The route called with a body it would accept from its owner."""
    body = {"completed": True} if path.endswith("/complete") else {"title": "Changed"}
    return client.open(path, method=method, json=body, headers=headers or {})


@pytest.mark.parametrize(("method", "path"), TASK_ROUTES)
def test_task_route_without_token_is_401(client, user, task, stored_tasks, method, path):
    answer = call(client, method, path.format(user_id=user["user_id"], task_id=task["id"]))
    assert answer.status_code == 401
    assert answer.content_type == "application/problem+json"
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert [row.title for row in stored_tasks()] == [task["title"]]


@pytest.mark.parametrize(("method", "path"), TASK_ROUTES)
def test_task_route_for_another_users_url_is_403(
    client, user, task, other_user, stored_tasks, method, path
):
    url = path.format(user_id=user["user_id"], task_id=task["id"])
    answer = call(client, method, url, other_user["headers"])
    assert answer.status_code == 403
    assert answer.get_json()["detail"] == "The token does not belong to this user."
    assert [row.title for row in stored_tasks()] == [task["title"]]


@pytest.mark.parametrize(("method", "path"), SINGLE_TASK_ROUTES)
def test_another_users_task_is_404(client, task, other_user, stored_tasks, method, path):
    url = path.format(user_id=other_user["user_id"], task_id=task["id"])
    answer = call(client, method, url, other_user["headers"])
    assert answer.status_code == 404
    assert answer.get_json()["detail"] == "Task not found"
    [row] = stored_tasks()
    assert (row.title, row.completed) == (task["title"], False)


@pytest.mark.parametrize(("method", "path"), TASK_ROUTES)
def test_token_of_deleted_user_is_401(client, app, user, method, path):
    with app.app_context():
        db.session.delete(db.session.get(User, uuid.UUID(user["user_id"])))
        db.session.commit()
    url = path.format(user_id=user["user_id"], task_id="00000000-0000-4000-8000-000000000000")
    answer = call(client, method, url, user["headers"])
    assert answer.status_code == 401
    assert answer.get_json()["detail"] == "The token's user no longer exists."


# Every route that answers without a token; any other route of the app must refuse one.
PUBLIC_ENDPOINTS = {
    "auth.signup",
    "auth.login",
    "health.liveness",
    "health.readiness",
    "api-docs.openapi_json",
    "api-docs.openapi_swagger_ui",
    "docs_assets.static",
    "guides.guide",
    "live.stream_changes",  # opened with a ticket, got with a token
    "calendar_feeds.poll_calendar",
}
SAMPLE_ARGUMENTS = {
    "user_id": uuid.uuid4(),
    "task_id": uuid.uuid4(),
    "list_id": uuid.uuid4(),
    "member_id": uuid.uuid4(),
    "invitation_id": uuid.uuid4(),
    "owner_id": uuid.uuid4(),
    "endpoint_id": uuid.uuid4(),
    "name": "home",
    "filename": "index.css",
    "subscription_id": uuid.uuid4(),
    "job_id": uuid.uuid4(),
    "secret": "not-a-secret",
}


def test_every_route_not_marked_public_refuses_a_caller_without_a_token(app, client):
    """Default deny: a new route is closed unless its view says it is public."""
    public, checked = set(), 0
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions[rule.endpoint], "is_public", False):
            public.add(rule.endpoint)
            continue
        with app.test_request_context():
            url = url_for(
                rule.endpoint, **{name: SAMPLE_ARGUMENTS[name] for name in rule.arguments}
            )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            answer = client.open(url, method=method, json={})
            assert answer.status_code == 401, (method, rule.rule, answer.get_json())
            assert answer.headers["WWW-Authenticate"] == "Bearer"
            checked += 1
    assert public == PUBLIC_ENDPOINTS
    assert checked >= 12  # the account and task operations
