"""The live routes through the app alone (no serving worker): tickets, what a stream sends when
no worker can hold it, how a stream's step ends it, and the feed's `wait` parameter."""

import json
import time
import uuid

from tests.conftest import assert_problem
from todo.accounts.tokens import Caller
from todo.live.stream import FeedStream
from todo.live.tickets import Ticket


def ticket_of(client, user) -> dict:
    answer = client.post(f"/api/{user['user_id']}/changes/tickets", headers=user["headers"])
    assert answer.status_code == 201
    return answer.get_json()


def events_in(body: str) -> list[dict]:
    events = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            events.append(fields)
    return events


def test_a_ticket_is_got_for_ones_own_url_only(client, user, other_user):
    answer = client.post(f"/api/{other_user['user_id']}/changes/tickets", headers=user["headers"])
    assert_problem(answer, 403)
    assert_problem(client.post(f"/api/{user['user_id']}/changes/tickets"), 401)


def test_without_the_serving_worker_a_stream_sends_what_there_is_and_ends(client, user, task):
    ticket = ticket_of(client, user)
    assert ticket["stream"] == f"/api/changes/stream?ticket={ticket['ticket']}"
    answer = client.get(ticket["stream"])
    assert answer.status_code == 200
    assert answer.mimetype == "text/event-stream"
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_data(as_text=True)
    assert body.startswith("retry: ")
    page, ended = events_in(body)
    assert [each["id"] for each in json.loads(page["data"])["tasks"]] == [task["id"]]
    assert page["id"] == json.loads(page["data"])["next"]
    assert ended["event"] == "end" and json.loads(ended["data"])["reason"] == "not_held"


def test_a_stream_resumes_after_its_last_event_id(client, user, task):
    first = events_in(client.get(ticket_of(client, user)["stream"]).get_data(as_text=True))[0]
    made = client.post(
        f"/api/{user['user_id']}/tasks", json={"title": "Later"}, headers=user["headers"]
    ).get_json()
    resumed = client.get(ticket_of(client, user)["stream"], headers={"Last-Event-ID": first["id"]})
    page = json.loads(events_in(resumed.get_data(as_text=True))[0]["data"])
    assert [each["id"] for each in page["tasks"]] == [made["id"]]


def test_a_ticket_opens_one_stream_and_an_altered_one_none(client, user):
    ticket = ticket_of(client, user)
    assert client.get(ticket["stream"]).status_code == 200
    assert "used already" in assert_problem(client.get(ticket["stream"]), 401)["detail"]
    altered = ticket_of(client, user)["stream"][:-2] + "AA"
    assert_problem(client.get(altered), 401)
    assert_problem(client.get("/api/changes/stream"), 401)


def test_a_ticket_of_a_revoked_token_opens_nothing(client, user):
    ticket = ticket_of(client, user)
    assert client.post("/api/auth/logout", headers=user["headers"]).status_code == 204
    assert_problem(client.get(ticket["stream"]), 401)


def test_a_stream_ends_once_its_token_has_expired(app, user):
    user_id = uuid.UUID(user["user_id"])
    ticket = Ticket(Caller(user_id, 0, "jti", user_id), int(time.time()) - 1)
    step = FeedStream(app, ticket, None, b"key").step(beat=True)
    assert step.end and b'"reason": "token_expired"' in step.data


def test_wait_is_at_most_60_seconds_and_without_the_worker_answers_at_once(client, user):
    url = f"/api/{user['user_id']}/changes"
    assert_problem(client.get(f"{url}?wait=61", headers=user["headers"]), 400)
    started = time.monotonic()
    answer = client.get(f"{url}?wait=30", headers=user["headers"])
    assert answer.status_code == 200 and answer.get_json()["tasks"] == []
    assert time.monotonic() - started < 25
