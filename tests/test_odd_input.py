"""Input at the edges: text no database can store, numbers and nesting past what decodes,
chunked bodies, odd headers and query strings. Each gets a 4xx problem, never a 500, and
nothing is written."""

import base64
import io
import json

import pytest

from tests.conftest import assert_problem


@pytest.mark.parametrize("text", ["a\u0000b", "\u0000", "bad \ud800 surrogate"])
@pytest.mark.parametrize("field", ["title", "description"])
def test_unstorable_text_in_a_task_is_422(client, user, tasks_url, stored_tasks, field, text):
    body = {"title": "ok", field: text}
    raw = json.dumps(body)  # escapes the surrogate as \\ud800, as a client's JSON would
    answer = client.post(
        tasks_url, data=raw, content_type="application/json", headers=user["headers"]
    )
    assert list(assert_problem(answer, 422)["errors"]) == [field]
    assert stored_tasks() == []


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_unstorable_text_in_a_change_is_422(client, user, task_url, stored_tasks, task, method):
    answer = client.open(
        task_url, method=method, json={"title": "a\u0000"}, headers=user["headers"]
    )
    assert_problem(answer, 422)
    assert stored_tasks()[0].title == task["title"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/signup", {"email": "a@example.com", "password": "\ud800aaaaaaaa"}),
        ("/api/auth/login", {"email": "a@example.com", "password": "\ud800aaaaaaaa"}),
        ("/api/auth/signup", {"email": "a\u0000@example.com", "password": "password123"}),
    ],
)
def test_unstorable_credentials_are_422(client, path, body):
    answer = client.post(path, data=json.dumps(body), content_type="application/json")
    assert_problem(answer, 422)


def test_an_integer_too_long_to_decode_is_400(client):
    answer = client.post(
        "/api/auth/signup", data='{"email": 1' + "0" * 5000 + "}", content_type="application/json"
    )
    assert assert_problem(answer, 400)["detail"] == "The request body is not valid JSON."


def chunked_post(client, url, body: bytes, headers):
    return client.post(
        url,
        input_stream=io.BytesIO(body),
        headers={**headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn says of chunked bodies
    )


def test_a_chunked_body_over_64_kib_is_413(client, user, tasks_url, stored_tasks):
    body = json.dumps({"title": "x", "description": "d" * 70_000}).encode()
    assert_problem(chunked_post(client, tasks_url, body, user["headers"]), 413)
    assert stored_tasks() == []


def test_a_small_chunked_body_is_read(client, user, tasks_url):
    answer = chunked_post(client, tasks_url, b'{"title": "chunked"}', user["headers"])
    assert answer.status_code == 201


def test_a_non_json_body_is_checked_after_routing_and_auth(client, user, tasks_url):
    plain = {"data": "title=x", "content_type": "text/plain"}
    assert client.post("/nowhere", **plain).status_code == 404
    assert client.post(tasks_url, **plain).status_code == 401
    assert client.put(tasks_url, headers=user["headers"], **plain).status_code == 405
    assert client.post(tasks_url, headers=user["headers"], **plain).status_code == 415


def test_a_lone_surrogate_in_a_field_name_is_422_not_500(client, user, tasks_url, stored_tasks):
    """The error names the field as sent, which orjson cannot encode (todo/json_provider.py)."""
    answer = client.post(
        tasks_url,
        data='{"title": "x", "\\ud800": 1}',
        content_type="application/json",
        headers=user["headers"],
    )
    assert_problem(answer, 422)
    assert list(answer.get_json()["errors"]) == ["\ud800"]
    assert stored_tasks() == []


@pytest.mark.parametrize("sent", ['"01"', '"²"', '"9223372036854775808"', '"1 "', "W/*", '""'])
def test_odd_if_match_never_matches_and_is_never_a_500(client, user, task_url, stored_tasks, sent):
    answer = client.put(
        task_url, json={"title": "x"}, headers={**user["headers"], "If-Match": sent}
    )
    assert_problem(answer, 412)
    assert stored_tasks()[0].version == 1


@pytest.mark.parametrize(
    "query",
    [
        "limit=1&limit=2",
        "completed=true&completed=false",
        "limit=%2B5",
        "limit=%205",
        "limit=%D9%A5",
        "q=%00",
        "cursor=" + base64.urlsafe_b64encode(b"[" * 1500).decode(),
        "cursor=" + base64.urlsafe_b64encode(b'["title", "a\\u0000", "x"]').decode(),
    ],
)
def test_odd_query_strings_are_400(client, user, tasks_url, query):
    assert_problem(client.get(f"{tasks_url}?{query}", headers=user["headers"]), 400)


def test_search_folds_case_beyond_ascii(client, user, tasks_url):
    client.post(tasks_url, json={"title": "Äpfel kaufen"}, headers=user["headers"])
    answer = client.get(f"{tasks_url}?q=äpfel", headers=user["headers"])
    assert [task["title"] for task in answer.get_json()] == ["Äpfel kaufen"]
