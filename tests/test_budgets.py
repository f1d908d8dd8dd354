"""Per-user request budgets: every authenticated route spends its caller's budget, answers say
what is left (RateLimit-Policy, RateLimit), and a request past it is 429 with Retry-After,
before its route runs; the feed and the batch spend budgets of their own; the count is shared
by every server through Redis, taken from it a slice at a time."""

import secrets

import pytest
import redis

from tests.conftest import PASSWORD, assert_problem
from tests.servers import sign_in


@pytest.fixture
def budgeted(make_app):
    """An app with small budgets, counted in memory."""
    return make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_BUDGET="5 per hour",
        RATELIMIT_BUDGET_FEED="3 per hour",
        RATELIMIT_STORAGE_URI="memory://",
    )


def signed_in(client) -> tuple[str, dict]:
    credentials = {"email": f"{secrets.token_hex(4)}@example.com", "password": PASSWORD}
    assert client.post("/api/auth/signup", json=credentials).status_code == 201
    login = client.post("/api/auth/login", json=credentials).get_json()
    return login["user_id"], {"Authorization": f"Bearer {login['token']}"}


def test_answers_say_what_is_left_and_past_the_budget_is_429(budgeted):
    client = budgeted.test_client()
    user_id, headers = signed_in(client)
    for left in range(4, -1, -1):
        answer = client.get("/api/auth/me", headers=headers)
        assert answer.status_code == 200
        assert answer.headers["RateLimit-Policy"] == '"default";q=5;w=3600'
        assert answer.headers["RateLimit"].startswith(f'"default";r={left};t=')
    refused = client.get(f"/api/{user_id}/tasks", headers=headers)
    body = assert_problem(refused, 429)
    assert body["detail"].startswith("Over the 'default' request budget of 5 requests per 3600")
    reset = int(refused.headers["RateLimit"].rsplit("t=", 1)[1])
    assert 0 < int(refused.headers["Retry-After"]) == reset <= 3600
    assert refused.headers["RateLimit"].startswith('"default";r=0;')


def test_the_feed_spends_a_budget_of_its_own(budgeted):
    client = budgeted.test_client()
    user_id, headers = signed_in(client)
    for _ in range(5):
        client.get("/api/auth/me", headers=headers)
    assert client.get("/api/auth/me", headers=headers).status_code == 429
    for left in (2, 1, 0):
        feed = client.get(f"/api/{user_id}/changes", headers=headers)
        assert feed.status_code == 200
        assert feed.headers["RateLimit"].startswith(f'"feed";r={left};')
        assert feed.headers["RateLimit-Policy"] == '"feed";q=3;w=3600'
    assert client.get(f"/api/{user_id}/changes", headers=headers).status_code == 429


def test_each_user_has_a_budget_of_their_own_and_public_routes_spend_none(budgeted):
    client = budgeted.test_client()
    _, first = signed_in(client)
    for _ in range(6):
        client.get("/api/auth/me", headers=first)
    _, second = signed_in(client)
    assert client.get("/api/auth/me", headers=second).status_code == 200
    health = client.get("/healthz")
    assert "RateLimit" not in health.headers and "RateLimit-Policy" not in health.headers


def test_a_process_takes_its_budget_from_redis_a_slice_at_a_time(make_app, redis_url):
    prefix = f"test-{secrets.token_hex(4)}"
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_BUDGET="1000 per hour",
        RATELIMIT_BUDGET_SLICE=50,
        RATELIMIT_STORAGE_URI=redis_url,
        RATELIMIT_KEY_PREFIX=prefix,
    )
    client = app.test_client()
    _, headers = signed_in(client)
    for n in range(50):
        answer = client.get("/api/auth/me", headers=headers)
        assert answer.headers["RateLimit"].startswith(f'"default";r={999 - n};')
    store = redis.Redis.from_url(redis_url)
    [key] = store.keys(f"*{prefix}/budget/default/*")
    assert int(store.get(key)) == 50  # one reservation for 50 requests
    client.get("/api/auth/me", headers=headers)
    assert int(store.get(key)) == 100


def test_the_budget_is_shared_by_two_servers(database_url, servers, redis_url):
    shared = {
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"test-{secrets.token_hex(4)}",
        "RATELIMIT_BUDGET": "10 per hour",
    }
    first, second = servers(database_url, **shared), servers(database_url, **shared)
    user_id, headers = sign_in(first)
    served = []
    for n in range(16):
        server = (first, second)[n % 2]
        status, answer_headers, _ = server.call("GET", f"/api/{user_id}/tasks", headers=headers)
        served.append(status)
        assert answer_headers["RateLimit-Policy"] == '"default";q=10;w=3600'
    assert served == [200] * 10 + [429] * 6
    status, answer_headers, _ = second.call("GET", "/api/auth/me", headers=headers)
    assert status == 429 and int(answer_headers["Retry-After"]) > 0
    assert answer_headers["RateLimit"].startswith('"default";r=0;t=')


def test_opening_streams_spends_the_stream_budget(make_app):
    """A stream is opened with a ticket (the stream itself has no token): each ticket spends
    the stream's budget, so a user opens at most that many streams a window."""
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_BUDGET_STREAM="2 per hour",
        RATELIMIT_STORAGE_URI="memory://",
    )
    client = app.test_client()
    user_id, headers = signed_in(client)
    tickets = f"/api/{user_id}/changes/tickets"
    for left in (1, 0):
        ticket = client.post(tickets, headers=headers)
        assert ticket.status_code == 201
        assert ticket.headers["RateLimit"].startswith(f'"stream";r={left};')
    assert_problem(client.post(tickets, headers=headers), 429)
    assert client.get("/api/auth/me", headers=headers).status_code == 200


def test_a_waiting_poll_spends_one_unit_however_often_it_runs_again(database_url, servers):
    """A poll held for 3 s runs again at every re-check (every 0.2 s here, no wake-up
    channel): it is one request, and spends one unit of the feed's budget."""
    server = servers(
        database_url,
        WEB_CONCURRENCY="1",
        RATELIMIT_ENABLED="true",
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_BUDGET_FEED="5 per hour",
        LIVE_FALLBACK_SECONDS="0.2",
    )
    user_id, headers = sign_in(server)
    first = server.call("GET", f"/api/{user_id}/changes", headers=headers)
    assert first[1]["RateLimit"].startswith('"feed";r=4;')
    path = f"/api/{user_id}/changes?since={first[2]['next']}&wait=3"
    status, answer_headers, page = server.call("GET", path, headers=headers, timeout=30)
    assert status == 200, page
    assert page["tasks"] == [] and answer_headers["RateLimit"].startswith('"feed";r=3;')
