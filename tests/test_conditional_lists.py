"""Lists answer conditionally: an ETag that moves with any change to the user's tasks (and
differs per query), 304 while it still holds, headers that keep shared caches out, and a
browser allowed to send If-None-Match across origins."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from todo.columns import utcnow
from todo.extensions import db
from todo.tasks.models import tasks


def get(client, user, query="", etag=None):
    headers = {**user["headers"], **({"If-None-Match": etag} if etag else {})}
    return client.get(f"/api/{user['user_id']}/tasks{query}", headers=headers)


def test_a_list_carries_a_weak_etag_and_is_private_to_its_user(client, user, task):
    answer = get(client, user)
    assert answer.headers["ETag"].startswith('W/"')
    assert answer.headers["Cache-Control"] == "private, no-cache"
    assert "Authorization" in answer.headers["Vary"]


def test_an_unchanged_list_is_304_with_no_body(client, user, task):
    etag = get(client, user).headers["ETag"]
    answer = get(client, user, etag=etag)
    assert answer.status_code == 304
    assert answer.data == b""
    assert answer.headers["ETag"] == etag
    assert answer.headers["Cache-Control"] == "private, no-cache"
    assert get(client, user, etag=etag.removeprefix("W/")).status_code == 304  # weak compare


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("POST", "", {"title": "another"}),
        ("PATCH", "/{id}", {"title": "renamed"}),
        ("PATCH", "/{id}/complete", None),
        ("DELETE", "/{id}", None),
        ("DELETE", "/{id}?purge=true", None),
    ],
)
def test_every_change_to_the_users_tasks_moves_the_etag(client, user, task, method, suffix, body):
    etag = get(client, user).headers["ETag"]
    url = f"/api/{user['user_id']}/tasks" + suffix.format(id=task["id"])
    assert client.open(url, method=method, json=body, headers=user["headers"]).status_code < 300
    answer = get(client, user, etag=etag)
    assert answer.status_code == 200
    assert answer.headers["ETag"] != etag


def test_each_query_has_its_own_etag(client, user, task):
    tags = {get(client, user, query).headers["ETag"] for query in ("", "?limit=5", "?sort=title")}
    assert len(tags) == 3
    assert get(client, user, "?limit=5", etag=get(client, user).headers["ETag"]).status_code == 200


def test_a_query_has_one_etag_whatever_the_order_of_its_parameters(client, user, task):
    tag = get(client, user, "?limit=5&sort=title").headers["ETag"]
    assert get(client, user, "?sort=title").headers["ETag"] != tag
    assert get(client, user, "?sort=title&limit=5").headers["ETag"] == tag
    assert get(client, user, "?sort=title&limit=5", etag=tag).status_code == 304


def test_another_users_change_does_not_move_the_etag(client, user, task, other_user):
    etag = get(client, user).headers["ETag"]
    client.post(
        f"/api/{other_user['user_id']}/tasks",
        json={"title": "theirs"},
        headers=other_user["headers"],
    )
    assert get(client, user, etag=etag).status_code == 304


def test_a_revoked_token_gets_401_not_304(client, user, task):
    etag = get(client, user).headers["ETag"]
    client.post("/api/auth/logout", headers=user["headers"])
    assert get(client, user, etag=etag).status_code == 401


def test_the_trash_list_changes_when_a_task_expires_in_it(app, client, user, task):
    """Expiry needs no write: the trash's ETag counts what has expired."""
    client.delete(f"/api/{user['user_id']}/tasks/{task['id']}", headers=user["headers"])
    trash = get(client, user, "?deleted=true")
    assert [row["id"] for row in trash.get_json()] == [task["id"]]
    with app.app_context():
        long_ago = utcnow() - timedelta(days=31)
        expired = update(tasks).where(tasks.c.id == uuid.UUID(task["id"]))
        db.session.execute(expired.values(deleted_at=long_ago))
        db.session.commit()
    answer = get(client, user, "?deleted=true", etag=trash.headers["ETag"])
    assert answer.status_code == 200
    assert answer.get_json() == []
    assert answer.headers["X-Total-Count"] == "0"


def test_an_empty_list_has_an_etag_that_moves_with_the_first_task(client, user):
    empty = get(client, user)
    assert empty.get_json() == []
    assert get(client, user, etag=empty.headers["ETag"]).status_code == 304
    client.post(f"/api/{user['user_id']}/tasks", json={"title": "first"}, headers=user["headers"])
    assert get(client, user, etag=empty.headers["ETag"]).status_code == 200


def test_browsers_may_send_if_none_match_and_read_the_etag(make_app, user):
    app = make_app(CORS_ORIGINS=["http://localhost:3000"])
    client = app.test_client()
    preflight = client.options(
        f"/api/{user['user_id']}/tasks",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, if-none-match",
        },
    )
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "if-none-match" in allowed
    answer = client.get(
        f"/api/{user['user_id']}/tasks",
        headers={**user["headers"], "Origin": "http://localhost:3000"},
    )
    assert "ETag" in answer.headers["Access-Control-Expose-Headers"]


def test_another_users_url_is_403_even_with_a_matching_etag(client, user, other_user):
    """The 304 is decided before the query is parsed, but never before the 403."""
    theirs = get(client, other_user).headers["ETag"]
    mine = get(client, user).headers["ETag"]
    for etag in (theirs, mine):
        answer = client.get(
            f"/api/{other_user['user_id']}/tasks",
            headers={**user["headers"], "If-None-Match": etag},
        )
        assert answer.status_code == 403


def test_an_invalid_query_is_400_whatever_the_if_none_match(client, user):
    etag = get(client, user).headers["ETag"]
    assert get(client, user, "?limit=0", etag=etag).status_code == 400
    assert get(client, user, "?limit=0", etag="*").status_code == 400
