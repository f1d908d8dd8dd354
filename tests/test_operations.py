"""What operators rely on: liveness and readiness probes, one JSON log line per request."""

import json
import logging

import pytest

from config import TestingConfig
from todo import create_app
from todo.access_log import JSONFormatter

UNREACHABLE = {
    "sqlite": "sqlite:////nonexistent-directory/todo.db",
    "postgresql": "postgresql://root@127.0.0.1:1/todo",
}


@pytest.fixture
def dead_database_client(database_kind):
    return create_app(TestingConfig(UNREACHABLE[database_kind])).test_client()


def test_liveness_and_readiness_are_200_with_a_database(client):
    for path in ("/healthz", "/readyz"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert answer.get_json() == {"status": "ok"}


def test_readiness_is_503_problem_when_the_database_is_unreachable(dead_database_client):
    answer = dead_database_client.get("/readyz")
    assert answer.status_code == 503
    assert answer.content_type == "application/problem+json"
    assert answer.headers["Retry-After"]


def test_liveness_does_not_need_the_database(dead_database_client):
    assert dead_database_client.get("/healthz").status_code == 200


def test_api_calls_are_503_problems_when_the_database_is_unreachable(dead_database_client):
    answer = dead_database_client.post(
        "/api/auth/login", json={"email": "a@example.com", "password": "password123"}
    )
    assert answer.status_code == 503
    assert answer.get_json()["detail"] == "The database is unavailable; try again shortly."


def test_a_database_without_the_schema_is_a_500_not_a_503(tmp_path):
    client = create_app(TestingConfig(f"sqlite:///{tmp_path / 'unmigrated.db'}")).test_client()
    answer = client.post(
        "/api/auth/signup", json={"email": "a@example.com", "password": "password123"}
    )
    assert answer.status_code == 500
    assert answer.content_type == "application/problem+json"


def request_lines(caplog):
    return [
        json.loads(JSONFormatter().format(record))
        for record in caplog.records
        if record.name == "todo.access"
    ]


def test_each_request_logs_one_json_line_with_its_user(client, user, task, caplog):
    caplog.set_level(logging.INFO, logger="todo.access")
    answer = client.get(
        f"/api/{user['user_id']}/tasks/{task['id']}?secret=1",
        headers={**user["headers"], "X-Request-ID": "trace-1"},
    )
    [line] = request_lines(caplog)
    assert line["method"] == "GET"
    assert line["path"] == f"/api/{user['user_id']}/tasks/{task['id']}"
    assert line["status"] == answer.status_code == 200
    assert line["request_id"] == "trace-1"
    assert line["user_id"] == user["user_id"]
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "info"


def test_log_lines_hold_no_token_or_password(client, caplog):
    caplog.set_level(logging.INFO, logger="todo.access")
    client.post("/api/auth/signup", json={"email": "a@example.com", "password": "password123"})
    login = client.post(
        "/api/auth/login", json={"email": "a@example.com", "password": "password123"}
    )
    client.get("/api/auth/me", headers={"Authorization": f"Bearer {login.get_json()['token']}"})
    text = "\n".join(JSONFormatter().format(record) for record in caplog.records)
    assert len(request_lines(caplog)) == 3
    assert "password123" not in text
    assert login.get_json()["token"] not in text
    assert request_lines(caplog)[0]["user_id"] is None
