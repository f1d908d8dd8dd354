"""Client-chosen task ids on POST /api/<user_id>/tasks: the task gets the id; the same id and
body within 24 h replays the first answer (Idempotent-Replayed: true); the id otherwise taken
(another body, older, trashed, purged) is 409 /problems/id-conflict, and a purged id never
comes back; ids are per user; a malformed id, or one in PUT or PATCH, is 422; concurrent
first tries create one task."""

import itertools
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import assert_problem
from tests.threads import at_once
from todo.accounts.models import users
from todo.columns import utcnow
from todo.extensions import db
from todo.idempotency import KEEP_FOR, IdempotencyKey
from todo.tasks.models import purged_tasks

ID_CONFLICT = "/problems/id-conflict"


@pytest.fixture
def chosen_id():
    return str(uuid.uuid4())


@pytest.fixture
def post(client, user, tasks_url):
    """POST a task as `user` (with `id` when given)."""

    def send(body, task_id=None, client=client):
        if task_id is not None:
            body = {"id": task_id, **body}
        return client.post(tasks_url, json=body, headers=user["headers"])

    return send


def assert_id_conflict(answer):
    assert answer.status_code == 409, answer.get_data(as_text=True)
    assert answer.content_type == "application/problem+json"
    body = answer.get_json()
    assert (body["type"], body["status"]) == (ID_CONFLICT, 409)
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Idempotent-Replayed" not in answer.headers


def first_answer_days_old(app, task_id, age):
    """Test setup: the first answer to the create with this id was given `age` ago."""
    with app.app_context():
        db.session.execute(
            update(IdempotencyKey.__table__)
            .where(IdempotencyKey.key == f"task-id:{task_id}")
            .values(created_at=utcnow() - age)
        )
        db.session.commit()


def test_a_chosen_id_is_the_new_tasks_id(client, user, post, chosen_id, stored_tasks):
    answer = post({"title": "Offline"}, chosen_id)
    assert answer.status_code == 201
    assert answer.get_json()["id"] == chosen_id
    assert answer.headers["Location"] == f"/api/{user['user_id']}/tasks/{chosen_id}"
    assert "Idempotent-Replayed" not in answer.headers
    assert client.get(answer.headers["Location"], headers=user["headers"]).get_json() == (
        answer.get_json()
    )
    [row] = stored_tasks()
    assert (str(row.id), row.title) == (chosen_id, "Offline")


@pytest.mark.parametrize("resent", ["as sent", "id in capitals", "keys reordered"])
def test_the_same_id_and_body_again_replay_the_first_answer(
    client, user, tasks_url, post, chosen_id, stored_tasks, resent
):
    first = post({"title": "Offline", "description": "made on a plane"}, chosen_id)
    if resent == "as sent":
        again = post({"title": "Offline", "description": "made on a plane"}, chosen_id)
    elif resent == "id in capitals":
        again = post({"title": "Offline", "description": "made on a plane"}, chosen_id.upper())
    else:
        raw = json.dumps({"description": "made on a plane", "title": "Offline", "id": chosen_id})
        headers = {**user["headers"], "Content-Type": "application/json"}
        again = client.post(tasks_url, data=raw.replace(", ", " ,  "), headers=headers)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (again.headers["Location"], again.headers["ETag"]) == (
        first.headers["Location"],
        first.headers["ETag"],
    )
    assert len(stored_tasks()) == 1


def test_the_replay_is_the_first_answer_even_after_the_task_changed(
    client, user, post, chosen_id, stored_tasks
):
    first = post({"title": "Offline"}, chosen_id)
    client.patch(first.headers["Location"], json={"title": "Renamed"}, headers=user["headers"])
    again = post({"title": "Offline"}, chosen_id)
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (201, "true")
    assert again.get_json() == first.get_json()
    [row] = stored_tasks()
    assert (row.title, row.version) == ("Renamed", 2)


@pytest.mark.parametrize(
    "other",
    [
        {"title": "Other"},
        {"title": "Offline", "completed": True},
        {"title": "Offline", "description": "x"},
    ],
)
def test_the_same_id_with_another_body_is_an_id_conflict(post, chosen_id, stored_tasks, other):
    post({"title": "Offline"}, chosen_id)
    assert_id_conflict(post(other, chosen_id))
    [row] = stored_tasks()
    assert (row.title, row.description, row.completed, row.version) == ("Offline", None, False, 1)


def test_the_same_id_and_body_after_24_hours_is_an_id_conflict(app, post, chosen_id, stored_tasks):
    post({"title": "Offline"}, chosen_id)
    first_answer_days_old(app, chosen_id, KEEP_FOR + timedelta(minutes=1))
    assert_id_conflict(post({"title": "Offline"}, chosen_id))
    assert len(stored_tasks()) == 1


def test_the_id_of_a_trashed_task_is_an_id_conflict(client, user, post, chosen_id, stored_tasks):
    first = post({"title": "Offline"}, chosen_id)
    client.delete(first.headers["Location"], headers=user["headers"])
    assert_id_conflict(post({"title": "Offline"}, chosen_id))
    [row] = stored_tasks()
    assert row.deleted_at is not None and row.version == 2


@pytest.mark.parametrize("how", ["purge", "empty the trash", "no trash", "expired and purged"])
def test_a_purged_id_is_never_taken_again(
    app, make_app, client, user, post, chosen_id, stored_tasks, how
):
    url = post({"title": "Offline"}, chosen_id).headers["Location"]
    if how == "purge":
        client.delete(f"{url}?purge=true", headers=user["headers"])
    elif how == "empty the trash":
        client.delete(url, headers=user["headers"])
        client.delete(f"/api/{user['user_id']}/trash", headers=user["headers"])
    elif how == "no trash":
        make_app(TRASH_RETENTION_DAYS=0).test_client().delete(url, headers=user["headers"])
    else:
        client.delete(url, headers=user["headers"])
        purged = make_app(TRASH_RETENTION_DAYS=0).test_cli_runner().invoke(args=["todo", "purge"])
        assert purged.output.startswith("purged 1 expired tasks")
    assert stored_tasks() == []
    assert_id_conflict(post({"title": "Offline"}, chosen_id))
    first_answer_days_old(app, chosen_id, KEEP_FOR + timedelta(minutes=1))
    assert_id_conflict(post({"title": "Offline"}, chosen_id))
    assert_id_conflict(post({"title": "Something else"}, chosen_id))
    assert stored_tasks() == []


def test_a_purged_id_stays_refused_long_after_and_past_the_purge_command(
    app, client, user, post, chosen_id, stored_tasks
):
    url = post({"title": "Offline"}, chosen_id).headers["Location"]
    client.delete(f"{url}?purge=true", headers=user["headers"])
    first_answer_days_old(app, chosen_id, KEEP_FOR + timedelta(minutes=1))
    with app.app_context():
        db.session.execute(update(purged_tasks).values(purged_at=utcnow() - timedelta(days=91)))
        db.session.commit()
    assert app.test_cli_runner().invoke(args=["todo", "purge"]).exit_code == 0
    assert_id_conflict(post({"title": "Offline"}, chosen_id))
    assert stored_tasks() == []


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_an_id_in_a_put_or_patch_body_is_422(client, user, task, task_url, stored_tasks, method):
    body = {"title": "Moved", "id": str(uuid.uuid4())}
    answer = client.open(task_url, method=method, json=body, headers=user["headers"])
    assert assert_problem(answer, 422)["errors"] == {"id": ["Unknown field."]}
    [row] = stored_tasks()
    assert (str(row.id), row.title, row.version) == (task["id"], task["title"], 1)


@pytest.mark.parametrize(
    "task_id", ["abc", "", 123, None, "12345678-1234-1234-1234-1234567890123", ["x"]]
)
def test_a_malformed_id_is_422(client, user, tasks_url, stored_tasks, task_id):
    body = {"id": task_id, "title": "Offline"}
    answer = assert_problem(client.post(tasks_url, json=body, headers=user["headers"]), 422)
    assert list(answer["errors"]) == ["id"]
    assert stored_tasks() == []


def test_ids_are_per_user_taken_and_purged_alike(
    client, user, other_user, post, chosen_id, stored_tasks
):
    theirs = f"/api/{other_user['user_id']}/tasks"
    url = client.post(
        theirs, json={"id": chosen_id, "title": "Theirs"}, headers=other_user["headers"]
    ).headers["Location"]
    taken = post({"title": "Mine"}, chosen_id)  # theirs, live: no matter
    assert taken.status_code == 201 and "Idempotent-Replayed" not in taken.headers
    assert taken.get_json()["id"] == chosen_id
    assert sorted((str(row.user_id), row.title) for row in stored_tasks()) == sorted(
        [(user["user_id"], "Mine"), (other_user["user_id"], "Theirs")]
    )
    client.delete(f"{taken.headers['Location']}?purge=true", headers=user["headers"])
    assert client.get(url, headers=other_user["headers"]).get_json()["title"] == "Theirs"
    assert client.delete(f"{url}?purge=true", headers=other_user["headers"]).status_code == 204
    again = client.post(
        theirs, json={"id": chosen_id, "title": "Theirs"}, headers=other_user["headers"]
    )
    assert_id_conflict(again)  # their own purge, not mine, refuses it
    assert stored_tasks() == []


def test_20_concurrent_posts_of_one_id_create_one_task_and_19_replays(
    app, post, chosen_id, stored_tasks
):
    answers = at_once(app, 20, lambda client: post({"title": "Offline"}, chosen_id, client))
    assert [answer.status_code for answer in answers] == [201] * 20
    replayed = [answer.headers.get("Idempotent-Replayed") for answer in answers]
    assert replayed.count("true") == 19 and replayed.count(None) == 1
    assert len({json.dumps(answer.get_json(), sort_keys=True) for answer in answers}) == 1
    [row] = stored_tasks()
    assert str(row.id) == chosen_id


def test_concurrent_posts_of_one_id_with_other_bodies_create_one_task(
    app, post, chosen_id, stored_tasks
):
    titles = itertools.count()
    answers = at_once(
        app, 10, lambda client: post({"title": f"t{next(titles)}"}, chosen_id, client)
    )
    [created] = [answer for answer in answers if answer.status_code == 201]
    assert "Idempotent-Replayed" not in created.headers
    for answer in answers:
        if answer is not created:
            assert_id_conflict(answer)
    [row] = stored_tasks()
    assert (str(row.id), row.title) == (chosen_id, created.get_json()["title"])


def test_concurrent_posts_of_one_subtask_id_count_it_once_on_its_parent_and_user(
    app, client, user, post, chosen_id
):
    """The posts that find the id taken insert nothing, and count nothing either: not on the
    parent's subtask counts, not on the user's task counts."""
    parent = post({"title": "Trip"}).get_json()["id"]
    answers = at_once(
        app, 20, lambda other: post({"title": "Socks", "parent_id": parent}, chosen_id, other)
    )
    assert [answer.status_code for answer in answers] == [201] * 20
    base = f"/api/{user['user_id']}"
    read = client.get(f"{base}/tasks/{parent}", headers=user["headers"]).get_json()
    assert read["subtasks"] == {"total": 1, "completed": 0}
    with app.app_context():
        counted = db.session.scalar(
            select(users.c.task_count).where(users.c.id == uuid.UUID(user["user_id"]))
        )
    assert counted == 2
