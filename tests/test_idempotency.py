"""Idempotency-Key on POST: a retry gets the first answer and creates nothing."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from todo.columns import utcnow
from todo.extensions import db
from todo.idempotency import IdempotencyKey


@pytest.fixture
def post(client, user):
    def send(body, key="key-1"):
        return client.post(
            f"/api/{user['user_id']}/tasks",
            json=body,
            headers={**user["headers"], "Idempotency-Key": key},
        )

    return send


def test_retry_with_same_key_and_body_replays_the_first_answer(post, stored_tasks):
    first = post({"title": "Pay rent"})
    retry = post({"title": "Pay rent"})
    assert first.status_code == retry.status_code == 201
    assert retry.data == first.data
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(stored_tasks()) == 1


def test_same_key_with_another_body_is_409(post, stored_tasks):
    post({"title": "Pay rent"})
    answer = post({"title": "Pay bills"})
    assert answer.status_code == 409
    assert answer.content_type == "application/problem+json"
    assert [row.title for row in stored_tasks()] == ["Pay rent"]


def test_a_logged_out_token_gets_no_replay(client, user, post):
    post({"title": "Pay rent"})
    client.post("/api/auth/logout", headers=user["headers"])
    for body in ({"title": "Pay rent"}, {"title": "Pay bills"}):
        answer = post(body)
        assert answer.status_code == 401, answer.get_json()
        assert "Idempotent-Replayed" not in answer.headers


def test_other_keys_create_other_tasks(post, stored_tasks):
    post({"title": "Pay rent"}, key="a")
    post({"title": "Pay rent"}, key="b")
    assert len(stored_tasks()) == 2


def test_keys_belong_to_one_user(client, post, other_user, stored_tasks):
    post({"title": "Pay rent"})
    answer = client.post(
        f"/api/{other_user['user_id']}/tasks",
        json={"title": "Pay rent"},
        headers={**other_user["headers"], "Idempotency-Key": "key-1"},
    )
    assert answer.status_code == 201
    assert answer.get_json()["user_id"] == other_user["user_id"]
    assert len(stored_tasks()) == 2


def test_a_key_is_forgotten_after_24_hours(app, post, stored_tasks):
    post({"title": "Pay rent"})
    with app.app_context():
        db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    again = post({"title": "Pay rent"})
    assert "Idempotent-Replayed" not in again.headers
    assert len(stored_tasks()) == 2
    with app.app_context():
        assert len(db.session.scalars(select(IdempotencyKey)).all()) == 1


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_key_of_bad_length_is_400(post, stored_tasks, key):
    answer = post({"title": "Pay rent"}, key=key)
    assert answer.status_code == 400
    assert answer.get_json()["detail"] == "Idempotency-Key must be 1 to 255 characters."
    assert stored_tasks() == []


def test_invalid_body_is_not_remembered(post, stored_tasks):
    assert post({"title": ""}).status_code == 422
    assert post({"title": "Pay rent"}).status_code == 201
    assert len(stored_tasks()) == 1
