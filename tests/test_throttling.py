"""Throttling: failed logins per email and address, per email and per address, sign-ups per
address, password re-checks per account; shared across app instances through Redis."""

import secrets
import time

import pytest
import redis

from tests.conftest import PASSWORD
from tests.tcp_proxy import TCPProxy
from tests.threads import answer_within, at_once


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


def test_logins_past_the_address_budget_are_429_even_with_the_right_password(make_app, user):
    """Each login costs a password hash: 32 login loops of one address took both cores."""
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGINS_PER_ADDRESS="4 per minute")
    client = client.test_client()
    statuses = [login(client, password=PASSWORD).status_code for _ in range(4)]
    assert statuses == [200] * 4
    answer = login(client, password=PASSWORD)
    assert (
        answer.status_code == 429
        and "Too many logins from this address" in answer.get_json()["detail"]
    )
    assert login(client, password=PASSWORD, address="10.0.0.2").status_code == 200


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


@pytest.fixture
def in_redis(redis_url):
    """Settings that keep an app's counts in the test Redis, apart from other runs' counts."""
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"test-{secrets.token_hex(4)}",
    }


def test_two_app_instances_sharing_redis_share_the_count(make_app, user, in_redis):
    shared = {**in_redis, "RATELIMIT_LOGIN_PER_EMAIL": "3 per minute"}
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
            app.extensions["throttles"].shared.storage.close()  # the Redis connections


def test_concurrent_guesses_never_get_past_the_limit(make_app, user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_PER_EMAIL="3 per minute")
    answers = at_once(app, 12, lambda client: login(client))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [401] * 3 + [429] * 9


def test_a_third_party_cannot_lock_the_owner_out(make_app, user):
    client = make_app(RATELIMIT_ENABLED=True).test_client()  # the shipped limits
    guesses = [login(client, address="203.0.113.66").status_code for _ in range(8)]
    assert guesses == [401] * 5 + [429] * 3
    assert login(client, password=PASSWORD, address="10.0.0.1").status_code == 200


def test_guessing_one_account_from_many_addresses_stays_bounded(make_app, user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_PER_EMAIL="8 per minute")
    client = app.test_client()
    statuses = [login(client, address=f"198.51.100.{n // 3}").status_code for n in range(12)]
    assert statuses == [401] * 8 + [429] * 4
    assert login(client, address="198.51.100.200").status_code == 429  # a fresh address too


def test_a_429_says_in_a_sentence_when_to_retry(make_app, user):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    for _ in range(5):
        login(client)
    answer = login(client)
    retry_after = int(answer.headers["Retry-After"])
    assert 0 < retry_after <= 60
    assert answer.get_json()["detail"] == (
        "Too many failed logins to this account from this address; "
        f"try again in {retry_after} seconds."
    )


def test_an_oversized_login_body_is_413_and_counts_nothing(make_app, user, redis_url, in_redis):
    prefix = in_redis["RATELIMIT_KEY_PREFIX"]
    app = make_app(**in_redis)
    client = app.test_client()
    store = redis.Redis.from_url(redis_url)
    try:
        padding = " " * 70_000
        oversized = f'{{"email": "test@example.com", "password": "guess"{padding}}}'
        for _ in range(20):
            answer = client.post("/api/auth/login", data=oversized, content_type="application/json")
            assert answer.status_code == 413
        assert not store.keys(f"*{prefix}*")
        assert [login(client).status_code for _ in range(6)] == [401] * 5 + [429]
        assert store.keys(f"*{prefix}*")  # counted in Redis, not in a fallback
    finally:
        store.close()
        app.extensions["throttles"].shared.storage.close()


def test_password_rechecks_are_limited_per_account(make_app, user):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    wrong = {"current_password": "not-it-at-all", "new_password": "a-new-password"}
    statuses = [
        client.put("/api/auth/password", json=wrong, headers=user["headers"]).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    deleting = client.delete("/api/auth/me", json={"password": PASSWORD}, headers=user["headers"])
    assert deleting.status_code == 429  # the same budget: the account is still there
    assert client.get("/api/auth/me", headers=user["headers"]).status_code == 200


def test_a_stalled_throttling_store_costs_a_login_a_fraction_of_a_second(make_app, user, redis_url):
    target = redis.Redis.from_url(redis_url).connection_pool.connection_kwargs
    proxy = TCPProxy(target["port"], target["host"])
    proxy.start()
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{proxy.port}/15",
        RATELIMIT_KEY_PREFIX=f"test-{secrets.token_hex(4)}",
    )
    client = app.test_client()
    try:
        assert login(client).status_code == 401
        proxy.stall()  # Redis frozen: connections are taken, nothing is answered
        timings = []
        for _ in range(5):
            started = time.monotonic()
            assert answer_within(2, login, client).status_code == 401  # fails open: in memory
            timings.append(time.monotonic() - started)
        assert max(timings) < 0.8, timings
        assert login(client).status_code == 429  # the in-memory count still holds
    finally:
        proxy.resume()
        proxy.cut()
        app.extensions["throttles"].shared.storage.close()


def test_answers_carry_retry_after_only_when_it_means_something(make_app, user):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    signup = client.post(
        "/api/auth/signup", json={"email": "new@example.com", "password": PASSWORD}
    )
    answers = [signup, login(client, password=PASSWORD), login(client)]
    assert [answer.status_code for answer in answers] == [201, 200, 401]
    assert not any("Retry-After" in answer.headers for answer in answers)


def test_a_503_during_an_outage_says_when_to_retry_and_counts_nothing(make_app, user, in_redis):
    shared = {**in_redis, "RATELIMIT_LOGIN_PER_EMAIL_AND_ADDRESS": "2 per minute"}
    down = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg2://root@127.0.0.1:1/todo", **shared)
    up = make_app(**shared)
    try:
        outage = [login(down.test_client()) for _ in range(3)]
        assert [answer.status_code for answer in outage] == [503] * 3
        assert {answer.headers["Retry-After"] for answer in outage} == {"5"}
        signup = down.test_client().post(
            "/api/auth/signup", json={"email": "x@example.com", "password": PASSWORD}
        )
        assert (signup.status_code, signup.headers["Retry-After"]) == (503, "5")
        # The attempts the database could not answer were not counted as failed logins.
        assert [login(up.test_client()).status_code for _ in range(3)] == [401, 401, 429]
    finally:
        for app in (down, up):
            app.extensions["throttles"].shared.storage.close()
