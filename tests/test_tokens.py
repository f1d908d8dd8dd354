"""Tokens stop working when they should: logout, password change, account deletion, expiry,
tampering. Every refusal is a 401 problem."""

import base64
import json
import time
import uuid
import warnings
from datetime import timedelta

import jwt as pyjwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning
from sqlalchemy import select

from tests.conftest import PASSWORD
from todo.accounts.models import RevokedToken, User
from todo.columns import utcnow
from todo.extensions import db
from todo.tasks.models import Task

SECRET = "test-secret-" + "x" * 32


def routes(user, task_id="00000000-0000-4000-8000-000000000000"):
    """One call of every authenticated route, as (method, path, body)."""
    tasks = f"/api/{user['user_id']}/tasks"
    return [
        ("GET", "/api/auth/me", None),
        ("POST", "/api/auth/logout", None),
        (
            "PUT",
            "/api/auth/password",
            {"current_password": PASSWORD, "new_password": "another-one"},
        ),
        ("DELETE", "/api/auth/me", {"password": PASSWORD}),
        ("GET", tasks, None),
        ("POST", tasks, {"title": "x"}),
        ("GET", f"{tasks}/{task_id}", None),
        ("PUT", f"{tasks}/{task_id}", {"title": "x"}),
        ("PATCH", f"{tasks}/{task_id}", {"title": "x"}),
        ("PATCH", f"{tasks}/{task_id}/complete", None),
        ("DELETE", f"{tasks}/{task_id}", None),
    ]


def assert_refused_everywhere(client, user, headers):
    for method, path, body in routes(user):
        answer = client.open(path, method=method, json=body, headers=headers)
        assert answer.status_code == 401, (method, path, answer.get_json())
        assert answer.content_type == "application/problem+json"


def assert_refused_on_own_task(client, user, headers, task, stored_tasks):
    """The task routes check the token inside their own statement: with a real task to find,
    a refused token still reads, changes and adds nothing."""
    before = [(row.id, row.title, row.completed, row.version) for row in stored_tasks()]
    task_routes = [route for route in routes(user, task["id"]) if "/tasks" in route[1]]
    for method, path, body in task_routes:
        answer = client.open(path, method=method, json=body, headers=headers)
        assert answer.status_code == 401, (method, path, answer.get_json())
    assert [(row.id, row.title, row.completed, row.version) for row in stored_tasks()] == before


def test_logout_revokes_that_token_on_every_route(client, user, app, task, stored_tasks):
    assert client.post("/api/auth/logout", headers=user["headers"]).status_code == 204
    assert_refused_everywhere(client, user, user["headers"])
    assert_refused_on_own_task(client, user, user["headers"], task, stored_tasks)
    with app.app_context():
        assert db.session.query(RevokedToken).count() == 1


def test_a_revoked_token_reads_no_list_of_any_shape(client, user, task):
    """Each shape of the list's statement (the trash's version, a sort by an expression, a
    page after a cursor) checks the token where it reads the list's version."""
    tasks = f"/api/{user['user_id']}/tasks"
    client.post(tasks, json={"title": "Second"}, headers=user["headers"])
    client.delete(f"{tasks}/{task['id']}", headers=user["headers"])
    first_page = client.get(f"{tasks}?limit=1", headers=user["headers"])
    assert first_page.status_code == 200 and "Link" not in first_page.headers
    client.post(tasks, json={"title": "Third"}, headers=user["headers"])
    next_page = client.get(f"{tasks}?limit=1", headers=user["headers"]).headers["Link"]
    shapes = [
        tasks,
        f"{tasks}?deleted=true",
        f"{tasks}?sort=due",
        f"{tasks}?completed=false",
        next_page.split(">")[0].removeprefix("<"),
    ]
    assert client.post("/api/auth/logout", headers=user["headers"]).status_code == 204
    for url in shapes:
        answer = client.get(url, headers=user["headers"])
        assert answer.status_code == 401, (url, answer.get_json())
        assert answer.get_json()["detail"] == "The token has been revoked; log in again."


def test_logout_leaves_other_tokens_working(client, user):
    second = client.post(
        "/api/auth/login", json={"email": "test@example.com", "password": PASSWORD}
    ).get_json()
    client.post("/api/auth/logout", headers=user["headers"])
    answer = client.get("/api/auth/me", headers={"Authorization": f"Bearer {second['token']}"})
    assert answer.status_code == 200


def test_logout_purges_revocations_that_have_expired(client, user, app):
    with app.app_context():
        db.session.add(
            RevokedToken(
                jti="old",
                user_id=uuid.UUID(user["user_id"]),
                expires_at=utcnow() - timedelta(days=1),
            )
        )
        db.session.commit()
    client.post("/api/auth/logout", headers=user["headers"])
    with app.app_context():
        assert "old" not in db.session.scalars(select(RevokedToken.jti)).all()


def test_password_change_revokes_older_tokens_and_not_newer_ones(client, user, task, stored_tasks):
    body = {"current_password": PASSWORD, "new_password": "a-new-password"}
    assert client.put("/api/auth/password", json=body, headers=user["headers"]).status_code == 204
    assert_refused_on_own_task(client, user, user["headers"], task, stored_tasks)
    assert_refused_everywhere(client, user, user["headers"])
    old = client.post("/api/auth/login", json={"email": "test@example.com", "password": PASSWORD})
    assert old.status_code == 401
    login = client.post(
        "/api/auth/login", json={"email": "test@example.com", "password": "a-new-password"}
    )
    # Issued within the same second as the change, and still valid.
    fresh = {"Authorization": f"Bearer {login.get_json()['token']}"}
    assert client.get("/api/auth/me", headers=fresh).status_code == 200


def test_password_change_with_wrong_current_password_is_401_and_changes_nothing(client, user):
    body = {"current_password": "not-my-password", "new_password": "a-new-password"}
    answer = client.put("/api/auth/password", json=body, headers=user["headers"])
    assert answer.status_code == 401
    assert client.get("/api/auth/me", headers=user["headers"]).status_code == 200


def test_password_change_validates_the_new_password(client, user):
    body = {"current_password": PASSWORD, "new_password": "short"}
    answer = client.put("/api/auth/password", json=body, headers=user["headers"])
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]) == ["new_password"]


def test_account_deletion_removes_user_and_tasks(client, app, user, task, other_user):
    client.post(
        f"/api/{other_user['user_id']}/tasks", json={"title": "kept"}, headers=other_user["headers"]
    )
    answer = client.delete("/api/auth/me", json={"password": PASSWORD}, headers=user["headers"])
    assert answer.status_code == 204
    with app.app_context():
        assert db.session.scalars(select(User.email)).all() == ["user2@example.com"]
        assert db.session.scalars(select(Task.title)).all() == ["kept"]
    assert_refused_everywhere(client, user, user["headers"])


def test_account_deletion_with_wrong_password_is_401_and_deletes_nothing(client, app, user, task):
    answer = client.delete(
        "/api/auth/me", json={"password": "wrong-password"}, headers=user["headers"]
    )
    assert answer.status_code == 401
    with app.app_context():
        assert db.session.query(Task).count() == 1


def forged(payload, secret=SECRET, algorithm="HS256"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)  # HS512 with our 44-byte key
        return pyjwt.encode(payload, secret, algorithm=algorithm)


def claims(user, **changes):
    now = utcnow()
    payload = {
        "sub": user["user_id"],
        "jti": str(uuid.uuid4()),
        "type": "access",
        "gen": 0,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(hours=1),
        **changes,
    }
    return {key: value for key, value in payload.items() if value is not None}


def unsigned(payload):
    def part(data):
        return (
            base64.urlsafe_b64encode(json.dumps(data, default=str).encode()).rstrip(b"=").decode()
        )

    payload = {
        key: int(value.timestamp()) if hasattr(value, "timestamp") else value
        for key, value in payload.items()
    }
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


BAD_TOKENS = {
    "expired": lambda user: forged(claims(user, exp=utcnow() - timedelta(seconds=60))),
    "issued in the future": lambda user: forged(claims(user, iat=utcnow() + timedelta(minutes=1))),
    "alg none": lambda user: unsigned(claims(user)),
    "wrong signature": lambda user: forged(claims(user), secret="another-secret-" + "y" * 32),
    "HS512": lambda user: forged(claims(user), algorithm="HS512"),
    "missing sub": lambda user: forged(claims(user, sub=None)),
    "sub not a uuid": lambda user: forged(claims(user, sub="admin")),
    "unknown user": lambda user: forged(claims(user, sub=str(uuid.uuid4()))),
    "missing generation": lambda user: forged(claims(user, gen=None)),
    "generation past 64 bits": lambda user: forged(claims(user, gen=2**70)),
    # Signed with our key, but not the kinds of claims we issue: they could not be logged out.
    "no exp": lambda user: forged(claims(user, exp=None)),
    "exp as a string": lambda user: forged(
        claims(user, exp=str(int((utcnow() + timedelta(hours=1)).timestamp())))
    ),
    "exp past year 9999": lambda user: forged(claims(user, exp=253402300800)),  # logout was 500
    "no iat": lambda user: forged(claims(user, iat=None)),
    "no jti": lambda user: forged(claims(user, jti=None)),
    "jti of 1000 characters": lambda user: forged(claims(user, jti="j" * 1000)),
    "jti not a string": lambda user: forged(claims(user, jti=12345)),
    "garbage": lambda user: "not.a.token",
}
BAD_HEADERS = {
    "no scheme": lambda token: token,
    "basic scheme": lambda token: f"Basic {token}",
    "bearer without token": lambda token: "Bearer",
    "two tokens": lambda token: f"Bearer {token} {token}",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_bad_token_is_401(client, user, kind):
    headers = {"Authorization": f"Bearer {BAD_TOKENS[kind](user)}"}
    calls = [("GET", "/api/auth/me"), ("GET", f"/api/{user['user_id']}/tasks")]
    for method, path in [*calls, ("POST", "/api/auth/logout"), *calls]:
        answer = client.open(path, method=method, headers=headers)
        assert answer.status_code == 401, answer.get_json()
        assert answer.content_type == "application/problem+json"


def test_a_token_issued_seconds_ahead_of_this_hosts_clock_is_accepted(client, user):
    """Another host's clock may run a little ahead: JWT_LEEWAY_SECONDS (10) covers it."""
    ahead = forged(claims(user, iat=utcnow() + timedelta(seconds=2)))
    headers = {"Authorization": f"Bearer {ahead}"}
    assert client.get("/api/auth/me", headers=headers).status_code == 200


def test_token_with_our_secret_and_claims_is_accepted(client, user):
    """The control for the cases above: each is refused for its one fault."""
    headers = {"Authorization": f"Bearer {forged(claims(user))}"}
    assert client.get("/api/auth/me", headers=headers).status_code == 200


def test_a_token_naming_its_user_in_capitals_keeps_working(client, user):
    """The user id in capitals is the same id."""
    headers = {"Authorization": f"Bearer {forged(claims(user, sub=user['user_id'].upper()))}"}
    for _ in range(2):  # the second time, from the memo of accepted headers
        answer = client.get(f"/api/{user['user_id']}/tasks", headers=headers)
        assert answer.status_code == 200, answer.get_json()


def test_a_token_accepted_before_is_refused_once_it_has_expired(make_app, user):
    """Accepted tokens are remembered (todo/accounts/verified_tokens.py), but only until they expire
    (and the leeway for other hosts' clocks has passed)."""
    client = make_app(JWT_DECODE_LEEWAY=1).test_client()
    expires = utcnow().replace(microsecond=0) + timedelta(seconds=2)
    headers = {"Authorization": f"Bearer {forged(claims(user, exp=expires))}"}
    tasks = f"/api/{user['user_id']}/tasks"
    assert client.get(tasks, headers=headers).status_code == 200
    time.sleep((expires - utcnow()).total_seconds() + 1.05)
    answer = client.get(tasks, headers=headers)
    assert answer.status_code == 401
    assert answer.get_json()["detail"] == "The token has expired; log in again."


def test_a_refresh_token_signed_with_our_key_is_refused_every_time(client, user):
    """flask-jwt-extended checks a token's type after decoding it: only headers it accepted
    whole are remembered (todo/accounts/verified_tokens.py), so the second try is no luckier."""
    headers = {"Authorization": f"Bearer {forged(claims(user, type='refresh'))}"}
    for _ in range(3):
        answer = client.get(f"/api/{user['user_id']}/tasks", headers=headers)
        assert answer.status_code == 401, answer.get_json()


def test_a_token_verified_by_one_app_is_not_trusted_by_one_with_another_secret(
    client, user, make_app
):
    other = make_app(JWT_SECRET_KEY="another-secret-" + "y" * 32).test_client()
    assert client.get("/api/auth/me", headers=user["headers"]).status_code == 200
    answer = other.get("/api/auth/me", headers=user["headers"])
    assert answer.status_code == 401
    assert answer.get_json()["detail"] == "The token is invalid: Signature verification failed."


@pytest.mark.parametrize("kind", BAD_HEADERS)
def test_malformed_authorization_header_is_401(client, user, kind):
    headers = {"Authorization": BAD_HEADERS[kind](user["token"])}
    answer = client.get("/api/auth/me", headers=headers)
    assert answer.status_code == 401
    assert answer.content_type == "application/problem+json"
