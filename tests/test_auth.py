"""Sign-up and login rules: normalised emails, one account per address, no hint of which
emails exist, no hash in any answer."""

import pytest
from sqlalchemy import select

from todo.accounts.models import User
from todo.extensions import db


def signup(client, email="test@example.com", password="password123"):
    return client.post("/api/auth/signup", json={"email": email, "password": password})


def login(client, email="test@example.com", password="password123"):
    return client.post("/api/auth/login", json={"email": email, "password": password})


def test_signup_stores_the_email_trimmed_and_lowercased(client, app):
    assert signup(client, "  Test@Example.COM ").get_json()["email"] == "test@example.com"
    with app.app_context():
        assert db.session.scalars(select(User.email)).all() == ["test@example.com"]


def test_signup_stores_an_argon2id_hash_not_the_password(client, app):
    signup(client)
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash))
    assert stored.startswith("$argon2id$")
    assert "password123" not in stored


@pytest.mark.parametrize("email", ["test@example.com", "TEST@example.com", " test@EXAMPLE.com"])
def test_signup_with_a_taken_email_is_409(client, app, email):
    signup(client)
    answer = signup(client, email)
    assert answer.status_code == 409
    assert answer.get_json()["detail"] == "An account with this email already exists."
    with app.app_context():
        assert db.session.query(User).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": "password123"}, "email"),
        ({"email": "test@example.com", "password": "short"}, "password"),
        ({"email": "test@example.com", "password": "x" * 129}, "password"),
        ({"email": "test@example.com"}, "password"),
        ({"password": "password123"}, "email"),
        ({"email": 5, "password": "password123"}, "email"),
        ({"email": "test@example.com", "password": "password123", "admin": True}, "admin"),
    ],
)
def test_signup_with_invalid_fields_is_422_and_creates_nothing(client, app, body, field):
    answer = client.post("/api/auth/signup", json=body)
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]) == [field]
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_login_accepts_the_email_in_any_case(client):
    signup(client)
    assert login(client, " TEST@example.com").status_code == 200


def test_login_unknown_email_and_wrong_password_answer_identically(client):
    signup(client)
    unknown = login(client, "nobody@example.com")
    wrong = login(client, password="wrong-password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.data == wrong.data
    assert unknown.get_json()["detail"] == "Incorrect email or password."


def test_me_answers_the_tokens_account(client, user):
    answer = client.get("/api/auth/me", headers=user["headers"])
    assert answer.status_code == 200
    assert answer.get_json()["user_id"] == user["user_id"]
    assert answer.get_json()["email"] == "test@example.com"


def test_me_without_token_is_401(client):
    answer = client.get("/api/auth/me")
    assert answer.status_code == 401
    assert answer.content_type == "application/problem+json"


def test_no_auth_answer_contains_a_password_or_hash(client, user):
    """No member is named like a password, and neither a password sent nor a hash appears."""
    headers = user["headers"]
    answers = [
        signup(client, "third@example.com"),
        signup(client, "third@example.com"),
        signup(client, "fourth@example.com", "short-"),
        login(client),
        login(client, password="wrong-password"),
        client.get("/api/auth/me", headers=headers),
        client.put(
            "/api/auth/password",
            json={"current_password": "wrong-password", "new_password": "new-password-1"},
            headers=headers,
        ),
        client.delete("/api/auth/me", json={"password": "wrong-password"}, headers=headers),
        client.post("/api/auth/logout", headers=headers),
        client.get("/api/auth/me", headers=headers),
    ]
    for answer in answers:
        text = answer.get_data(as_text=True)
        assert not any("password" in key for key in (answer.get_json(silent=True) or {}))
        for secret in ("password123", "wrong-password", "new-password-1", "short-", "$argon2"):
            assert secret not in text
