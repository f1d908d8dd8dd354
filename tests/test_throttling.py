"""Throttling: failed logins per email and per address, sign-ups per address; shared across
app instances through Redis."""

import secrets

import pytest

from tests.conftest import PASSWORD
from tests.threads import at_once


def login(
    client, email="test@example.com", password="wrong-password", address="10.0.0.1", **headers
):
    return client.post(
        "/api/auth/login",
        json={"email": email, "password": password},
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.fixture
def throttled(make_app, user):
    """An app with small limits, in memory, and a signed-up test@example.com."""
    return make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN_PER_EMAIL="3 per minute",
        RATELIMIT_LOGIN_PER_ADDRESS="5 per minute",
        RATELIMIT_SIGNUP_PER_ADDRESS="2 per hour",
    ).test_client()


def test_failed_login_past_the_email_limit_is_429_with_retry_after(throttled):
    assert [login(throttled).status_code for _ in range(3)] == [401] * 3
    answer = login(throttled, password=PASSWORD)
    assert answer.status_code == 429
    assert answer.content_type == "application/problem+json"
    assert int(answer.headers["Retry-After"]) > 0


def test_email_limit_counts_the_email_however_it_is_written(throttled):
    for email in ("test@example.com", "TEST@example.com", " test@EXAMPLE.com "):
        assert login(throttled, email=email).status_code == 401
    assert login(throttled).status_code == 429


def test_successful_logins_do_not_count(throttled):
    assert [login(throttled).status_code for _ in range(2)] == [401, 401]
    assert [login(throttled, password=PASSWORD).status_code for _ in range(5)] == [200] * 5
    assert login(throttled).status_code == 401
    assert login(throttled).status_code == 429


def test_failed_logins_past_the_address_limit_are_429_for_any_email(throttled):
    statuses = [login(throttled, email=f"user{n}@example.com").status_code for n in range(5)]
    assert statuses == [401] * 5
    assert login(throttled, email="someone-else@example.com").status_code == 429
    assert login(throttled, email="someone-else@example.com", address="10.0.0.2").status_code == 401


def test_signups_past_the_address_limit_are_429(throttled):
    def signup(n):
        return throttled.post(
            "/api/auth/signup",
            json={"email": f"new{n}@example.com", "password": PASSWORD},
            environ_base={"REMOTE_ADDR": "10.0.0.9"},
        )

    assert [signup(n).status_code for n in range(3)] == [201, 201, 429]


def test_forwarded_for_is_ignored_without_trusted_proxies(throttled):
    for n in range(5):
        login(throttled, email=f"user{n}@example.com", **{"X-Forwarded-For": f"192.0.2.{n}"})
    assert (
        login(throttled, email="x@example.com", **{"X-Forwarded-For": "192.0.2.99"}).status_code
        == 429
    )


def test_forwarded_for_names_the_client_behind_trusted_proxies(make_app, user):
    client = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_PER_ADDRESS="2 per minute", TRUSTED_PROXIES=1
    ).test_client()
    behind = {"X-Forwarded-For": "192.0.2.1"}
    assert [login(client, email=f"u{n}@example.com", **behind).status_code for n in range(3)] == [
        401,
        401,
        429,
    ]
    assert (
        login(client, email="v@example.com", **{"X-Forwarded-For": "192.0.2.2"}).status_code == 401
    )


def test_two_app_instances_sharing_redis_share_the_count(make_app, user, redis_url):
    shared = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"test-{secrets.token_hex(4)}",
        "RATELIMIT_LOGIN_PER_EMAIL": "3 per minute",
    }
    apps = [make_app(**shared), make_app(**shared)]
    assert apps[0].extensions["throttles"] is not apps[1].extensions["throttles"]
    first, second = (app.test_client() for app in apps)
    try:
        assert [login(first).status_code for _ in range(2)] == [401, 401]
        assert login(second).status_code == 401
        assert login(first).status_code == 429
        assert login(second).status_code == 429
    finally:
        for app in apps:
            app.extensions["throttles"].storage.storage.close()  # the Redis connections


def test_concurrent_guesses_never_get_past_the_limit(make_app, user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_PER_EMAIL="3 per minute")
    answers = at_once(app, 12, lambda client: login(client))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [401] * 3 + [429] * 9
