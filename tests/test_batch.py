"""POST /api/<user_id>/batch: operations applied in order; atomic (one change number, all or
nothing, the failed operation's problem with its index) or each on its own; Idempotency-Key
(replays, another body, concurrent retries, a logged-out token); the 1 MiB body limit; the trash
through delete and restore; and whose tasks a batch may touch."""

import json
import sqlite3
import uuid

import pytest
from psycopg2.extensions import TRANSACTION_STATUS_IDLE
from sqlalchemy import select

from tests.conftest import assert_problem
from tests.threads import at_once
from todo.accounts.models import users
from todo.extensions import db
from todo.tasks.models import tasks

BATCH_FAILED = "/problems/batch-failed"


@pytest.fixture
def batch_url(user):
    return f"/api/{user['user_id']}/batch"


@pytest.fixture
def run_batch(client, user, batch_url):
    """POST a batch of `operations` as `user`; `atomic` is left out when None (the default)."""

    def send(operations, atomic=None, headers=None):
        body = {"operations": operations}
        if atomic is not None:
            body["atomic"] = atomic
        return client.post(batch_url, json=body, headers={**user["headers"], **(headers or {})})

    return send


def create(title, task_id=None, **fields):
    task = {"title": title, **fields}
    if task_id is not None:
        task["id"] = task_id
    return {"op": "create", "task": task}


def new_id():
    return str(uuid.uuid4())


def assert_batch_failed(answer, status: int, index: int) -> dict:
    """`answer` is the problem of an atomic batch whose operation `index` failed with
    `status`; its body."""
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.content_type == "application/problem+json"
    body = answer.get_json()
    assert body["type"] == BATCH_FAILED
    assert body["status"] == status
    assert body["index"] == index
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def stored_by_id(stored_tasks) -> dict:
    return {str(row.id): row for row in stored_tasks()}


def test_atomic_batch_applies_every_operation_in_order(run_batch, task, stored_tasks):
    first, second = new_id(), new_id()
    answer = run_batch(
        [
            create("Buy milk", first),
            create("Walk dog", second, description="Twice"),
            {"op": "patch", "id": first, "if_match": '"1"', "changes": {"title": "Buy oat milk"}},
            {"op": "complete", "id": second, "completed": True},
            {"op": "replace", "id": task["id"], "task": {"title": "Groceries"}},
            {"op": "complete", "id": task["id"]},
            {"op": "delete", "id": second},
            {"op": "restore", "id": second},
        ]
    )
    assert answer.status_code == 200, answer.get_json()
    results = answer.get_json()["results"]
    assert [result["status"] for result in results] == [201, 201, 200, 200, 200, 200, 204, 200]
    assert "task" not in results[6]
    assert results[0]["task"]["id"] == first
    assert results[2]["task"]["title"] == "Buy oat milk"
    assert results[2]["task"]["version"] == 2
    assert results[4]["task"]["description"] is None  # replace: an omitted description is null
    assert results[5]["task"]["completed"] is True  # complete without a value flips
    assert results[7]["task"]["deleted_at"] is None
    rows = stored_by_id(stored_tasks)
    assert set(rows) == {task["id"], first, second}
    assert (rows[first].title, rows[first].completed) == ("Buy oat milk", False)
    assert (rows[second].description, rows[second].completed) == ("Twice", True)
    assert rows[second].deleted_at is None
    assert (rows[task["id"]].title, rows[task["id"]].description) == ("Groceries", None)
    assert rows[task["id"]].completed is True


def test_atomic_batch_is_one_change_in_the_feed(client, user, run_batch, stored_tasks):
    changes_url = f"/api/{user['user_id']}/changes"
    cursor = client.get(changes_url, headers=user["headers"]).get_json()["next"]
    answer = run_batch([create("One"), create("Two"), create("Three")])
    assert answer.status_code == 200
    created = {result["task"]["id"] for result in answer.get_json()["results"]}
    pages = []
    while not pages or pages[-1]["has_more"]:
        since = pages[-1]["next"] if pages else cursor
        query = {"since": since, "limit": 1}
        pages.append(
            client.get(changes_url, query_string=query, headers=user["headers"]).get_json()
        )
    # One change, read a task a page (limit=1): the three, and nothing after them.
    assert [len(page["tasks"]) for page in pages] == [1, 1, 1]
    assert {page["tasks"][0]["id"] for page in pages} == created
    with_numbers = stored_by_id(stored_tasks)
    assert len({with_numbers[task_id].change_number for task_id in created}) == 1


def test_atomic_batch_of_100_whose_50th_is_invalid_applies_nothing(run_batch, task, stored_tasks):
    before = len(stored_tasks())
    earlier = [new_id() for _ in range(49)]
    operations = [create(f"Task {n}", task_id) for n, task_id in enumerate(earlier)]
    operations.append(create(""))
    operations += [create(f"Later {n}") for n in range(50)]
    assert len(operations) == 100
    answer = run_batch(operations)
    body = assert_batch_failed(answer, 422, 49)
    assert list(body["errors"]) == ["task.title"]
    assert len(stored_tasks()) == before
    assert not set(earlier) & set(stored_by_id(stored_tasks))


def test_atomic_batch_failing_at_its_last_write_undoes_the_earlier_ones(
    run_batch, task, stored_tasks
):
    created = new_id()
    answer = run_batch(
        [
            {"op": "patch", "id": task["id"], "changes": {"title": "Changed"}},
            create("New", created),
            {"op": "delete", "id": task["id"]},
            {"op": "complete", "id": new_id()},
        ]
    )
    body = assert_batch_failed(answer, 404, 3)
    assert body["detail"] == "Task not found"
    [row] = stored_tasks()
    assert (str(row.id), row.title, row.version, row.deleted_at) == (
        task["id"],
        task["title"],
        1,
        None,
    )


def test_requests_leave_no_pooled_connection_in_a_transaction(
    app, client, user, tasks_url, run_batch, task
):
    """The pool does not roll back what it takes back (config.py): a failed batch, a read,
    a write each ended their own transaction."""
    answer = run_batch([create("New", new_id()), {"op": "complete", "id": new_id()}])
    assert_batch_failed(answer, 404, 1)
    assert (
        client.post(tasks_url, json={"title": "More"}, headers=user["headers"]).status_code == 201
    )
    assert client.get(tasks_url, headers=user["headers"]).status_code == 200
    with app.app_context():
        held = [db.engine.raw_connection() for _ in range(db.engine.pool.checkedin())]
        try:
            assert held
            assert not any(in_transaction(connection.dbapi_connection) for connection in held)
        finally:
            for connection in held:
                connection.close()


def in_transaction(dbapi_connection) -> bool:
    if isinstance(dbapi_connection, sqlite3.Connection):
        return dbapi_connection.in_transaction
    return dbapi_connection.get_transaction_status() != TRANSACTION_STATUS_IDLE


@pytest.mark.parametrize("title", ["", "x" * 501], ids=["empty", "too_long"])
def test_invalid_changes_get_the_messages_of_the_single_route(
    client, user, task, task_url, run_batch, stored_tasks, title
):
    single = client.patch(task_url, json={"title": title}, headers=user["headers"])
    assert single.status_code == 422
    answer = run_batch(
        [create("Before"), {"op": "patch", "id": task["id"], "changes": {"title": title}}]
    )
    body = assert_batch_failed(answer, 422, 1)
    # Messages by the field's path in the operation (`changes.title`), as the single route's.
    assert body["errors"] == {"changes.title": single.get_json()["errors"]["title"]}
    [row] = stored_tasks()
    assert row.title == task["title"]


def test_stale_if_match_fails_the_batch_with_412(run_batch, task, stored_tasks):
    answer = run_batch(
        [
            create("Before"),
            {"op": "patch", "id": task["id"], "if_match": '"7"', "changes": {"completed": True}},
        ]
    )
    assert_batch_failed(answer, 412, 1)
    [row] = stored_tasks()
    assert (row.completed, row.version) == (False, 1)


@pytest.mark.parametrize("reuse", ["existing", "earlier_in_batch"])
def test_a_reused_id_fails_the_batch_with_409(run_batch, task, stored_tasks, reuse):
    taken = task["id"] if reuse == "existing" else new_id()
    answer = run_batch([create("First", taken), create("Second", taken)])
    assert_batch_failed(answer, 409, 0 if reuse == "existing" else 1)
    assert [str(row.id) for row in stored_tasks()] == [task["id"]]
    assert stored_tasks()[0].title == task["title"]


@pytest.mark.parametrize(
    ("operation", "errors"),
    [
        ({"op": "rename", "id": "TASK"}, None),
        (
            {"op": "patch", "changes": {"title": "No id"}},
            {"id": ["Missing data for required field."]},
        ),
        (
            {"op": "replace", "id": "TASK", "task": {"id": "TASK", "title": "Mine"}},
            {"task.id": ["Unknown field."]},
        ),
        (
            {"op": "replace", "id": "TASK", "task": {"title": "Mine", "after": "TASK"}},
            {"task.after": ["Unknown field."]},
        ),
        (
            {"op": "delete", "id": "TASK", "completed": True},
            {"completed": ["Not taken by delete."]},
        ),
        ({"op": "create", "id": "TASK", "task": {"title": "X"}}, {"id": ["Not taken by create."]}),
        ({"op": "delete", "id": "TASK", "colour": "red"}, {"colour": ["Unknown field."]}),
    ],
    ids=[
        "unknown_op",
        "patch_without_id",
        "id_in_replace_task",
        "placement_in_replace_task",
        "completed_on_delete",
        "id_on_create",
        "unknown_member",
    ],
)
def test_operation_of_the_wrong_shape_fails_the_batch_with_422(
    run_batch, task, stored_tasks, operation, errors
):
    operation = json.loads(json.dumps(operation).replace("TASK", task["id"]))
    answer = run_batch([create("Before"), operation])
    body = assert_batch_failed(answer, 422, 1)
    if errors is None:
        assert list(body["errors"]) == ["op"]
    else:
        assert body["errors"] == errors
    [row] = stored_tasks()
    assert (row.title, row.version) == (task["title"], 1)


@pytest.mark.parametrize("atomic", [True, False])
def test_an_operations_errors_name_at_most_20_fields_as_the_top_level_does(
    run_batch, stored_tasks, atomic
):
    """60,000 unknown keys in one operation were 2 MB of errors for an 840 KB request."""
    unknown = {f"k{n}": 0 for n in range(5000)}
    answer = run_batch([{"op": "create", "task": {"title": "x", **unknown}}], atomic=atomic)
    problem = (
        assert_batch_failed(answer, 422, 0)
        if atomic
        else answer.get_json()["results"][0]["problem"]
    )
    assert len(problem["errors"]) == 20
    assert "5000 of them; the first 20 are listed" in problem["detail"]
    assert len(answer.get_data()) < 5000
    assert stored_tasks() == []


@pytest.mark.parametrize("count", [0, 101])
def test_zero_or_more_than_100_operations_is_422_for_the_whole_body(run_batch, stored_tasks, count):
    answer = run_batch([create(f"Task {n}") for n in range(count)])
    body = assert_problem(answer, 422)
    assert "index" not in body
    assert list(body["errors"]) == ["operations"]
    assert stored_tasks() == []


def test_non_atomic_batch_applies_the_valid_operations_and_reports_each(
    run_batch, task, stored_tasks
):
    created = new_id()
    answer = run_batch(
        [
            create("Kept", created),
            {"op": "patch", "id": new_id(), "changes": {"title": "Nobody"}},
            create(""),
            {"op": "patch", "id": task["id"], "if_match": '"9"', "changes": {"title": "Stale"}},
            {"op": "delete", "id": task["id"]},
        ],
        atomic=False,
    )
    assert answer.status_code == 200, answer.get_json()
    results = answer.get_json()["results"]
    assert [result["status"] for result in results] == [201, 404, 422, 412, 204]
    assert results[0]["task"]["id"] == created
    for result in results[1:4]:
        assert "task" not in result
        problem = result["problem"]
        assert problem["status"] == result["status"]
        assert problem["type"] and problem["detail"]
    assert list(results[2]["problem"]["errors"]) == ["task.title"]
    assert results[4] == {"status": 204}
    rows = stored_by_id(stored_tasks)
    assert set(rows) == {task["id"], created}
    assert rows[created].title == "Kept"
    assert rows[task["id"]].title == task["title"]
    assert rows[task["id"]].deleted_at is not None


@pytest.mark.parametrize("atomic", [True, False])
def test_same_idempotency_key_and_body_replays_the_answer_and_applies_nothing_again(
    run_batch, stored_tasks, atomic
):
    operations = [create("Pay rent"), create("Pay bills")]
    first = run_batch(operations, atomic, {"Idempotency-Key": "batch-1"})
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    retry = run_batch(operations, atomic, {"Idempotency-Key": "batch-1"})
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    assert len(stored_tasks()) == 2


@pytest.mark.parametrize("atomic", [True, False])
def test_same_idempotency_key_with_another_body_is_409(run_batch, stored_tasks, atomic):
    assert (
        run_batch([create("Pay rent")], atomic, {"Idempotency-Key": "batch-1"}).status_code == 200
    )
    answer = run_batch([create("Pay bills")], atomic, {"Idempotency-Key": "batch-1"})
    assert answer.status_code == 409
    assert answer.content_type == "application/problem+json"
    assert [row.title for row in stored_tasks()] == ["Pay rent"]


def test_a_200_kib_batch_is_accepted_where_post_tasks_refuses_that_size(
    client, user, tasks_url, batch_url, stored_tasks
):
    body = json.dumps(
        {"operations": [create(f"Task {n}", description="d" * 2000) for n in range(100)]}
    )
    assert 200 * 1024 < len(body) < 1024 * 1024
    headers = {**user["headers"], "Content-Type": "application/json"}
    answer = client.post(batch_url, data=body, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert len(answer.get_json()["results"]) == 100
    assert len(stored_tasks()) == 100
    assert_problem(client.post(tasks_url, data=body, headers=headers), 413)
    assert len(stored_tasks()) == 100


def test_a_batch_over_1_mib_is_413(client, user, batch_url, stored_tasks):
    body = json.dumps(
        {"operations": [create(f"Task {n}", description="d" * 10_500) for n in range(100)]}
    )
    assert len(body) > 1024 * 1024
    answer = client.post(
        batch_url, data=body, headers={**user["headers"], "Content-Type": "application/json"}
    )
    assert_problem(answer, 413)
    assert stored_tasks() == []


def test_delete_moves_to_the_trash_and_restore_brings_back(
    client, user, tasks_url, task, task_url, run_batch
):
    assert run_batch([{"op": "delete", "id": task["id"]}]).get_json() == {
        "results": [{"status": 204}]
    }
    assert client.get(task_url, headers=user["headers"]).status_code == 404
    trash = client.get(tasks_url, query_string={"deleted": "true"}, headers=user["headers"])
    assert [listed["id"] for listed in trash.get_json()] == [task["id"]]

    answer = run_batch([{"op": "restore", "id": task["id"]}])
    assert answer.status_code == 200
    [result] = answer.get_json()["results"]
    assert result["status"] == 200
    assert (result["task"]["id"], result["task"]["deleted_at"]) == (task["id"], None)
    assert client.get(task_url, headers=user["headers"]).status_code == 200
    trash = client.get(tasks_url, query_string={"deleted": "true"}, headers=user["headers"])
    assert trash.get_json() == []


def test_delete_with_purge_removes_the_task_for_good(
    client, user, tasks_url, task, task_url, run_batch, stored_tasks
):
    answer = run_batch([{"op": "delete", "id": task["id"], "purge": True}])
    assert answer.get_json() == {"results": [{"status": 204}]}
    assert stored_tasks() == []
    trash = client.get(tasks_url, query_string={"deleted": "true"}, headers=user["headers"])
    assert trash.get_json() == []
    assert_batch_failed(run_batch([{"op": "restore", "id": task["id"]}]), 410, 0)
    assert client.get(task_url, headers=user["headers"]).status_code == 404


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "patch", "changes": {"title": "Mine now"}},
        {"op": "replace", "task": {"title": "Mine now"}},
        {"op": "complete", "completed": True},
        {"op": "delete"},
        {"op": "delete", "purge": True},
        {"op": "restore"},
    ],
    ids=["patch", "replace", "complete", "delete", "purge", "restore"],
)
def test_another_users_task_is_404_and_left_untouched(
    client, other_user, run_batch, stored_tasks, operation
):
    theirs = client.post(
        f"/api/{other_user['user_id']}/tasks",
        json={"title": "Theirs", "description": "Private"},
        headers=other_user["headers"],
    ).get_json()
    answer = run_batch([create("Mine"), {**operation, "id": theirs["id"]}])
    assert_batch_failed(answer, 404, 1)
    [row] = stored_tasks()
    assert (str(row.id), str(row.user_id)) == (theirs["id"], other_user["user_id"])
    assert (row.title, row.description, row.completed) == ("Theirs", "Private", False)
    assert (row.version, row.deleted_at) == (1, None)


def test_a_batch_to_another_users_url_is_403(client, user, other_user, stored_tasks):
    answer = client.post(
        f"/api/{other_user['user_id']}/batch",
        json={"operations": [create("Planted")]},
        headers=user["headers"],
    )
    assert_problem(answer, 403)
    assert stored_tasks() == []


def test_a_batch_without_a_token_is_401(client, batch_url, stored_tasks):
    answer = client.post(batch_url, json={"operations": [create("Anonymous")]})
    assert_problem(answer, 401)
    assert stored_tasks() == []


@pytest.mark.parametrize("atomic", [True, False])
def test_concurrent_retries_with_one_idempotency_key_apply_the_batch_once(
    app, user, batch_url, stored_tasks, atomic
):
    body = {"atomic": atomic, "operations": [create("Pay rent"), create("Pay bills")]}

    def post(client):
        return client.post(
            batch_url, json=body, headers={**user["headers"], "Idempotency-Key": "same"}
        )

    answers = at_once(app, 10, post)
    assert [answer.status_code for answer in answers] == [200] * 10
    assert len(stored_tasks()) == 2
    assert len({answer.data for answer in answers}) == 1


@pytest.mark.parametrize("atomic", [True, False])
def test_a_logged_out_token_gets_no_replay_of_a_batch(client, user, run_batch, atomic):
    operations = [create("Pay rent")]
    assert run_batch(operations, atomic, {"Idempotency-Key": "batch-1"}).status_code == 200
    client.post("/api/auth/logout", headers=user["headers"])
    answer = run_batch(operations, atomic, {"Idempotency-Key": "batch-1"})
    assert answer.status_code == 401, answer.get_data(as_text=True)
    assert "Idempotent-Replayed" not in answer.headers


def test_a_batch_that_changes_one_task_twice_gives_it_the_batchs_one_number(
    app, client, user, batch_url, task
):
    """A row written twice in one batch stays pending until the batch takes its number."""
    operations = [
        {"op": "patch", "id": task["id"], "changes": {"title": "once"}},
        {"op": "patch", "id": task["id"], "changes": {"title": "twice"}},
        {"op": "create", "task": {"title": "beside it"}},
    ]
    answer = client.post(batch_url, json={"operations": operations}, headers=user["headers"])
    assert answer.status_code == 200
    with app.app_context():
        numbers = db.session.scalars(select(tasks.c.change_number)).all()
        counter = db.session.scalar(select(users.c.change_number))
    assert sorted(numbers) == [counter, counter]
