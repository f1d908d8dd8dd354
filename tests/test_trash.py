"""The trash: DELETE moves a task there (or purges it for good with ?purge=true, or at once
with TRASH_RETENTION_DAYS=0), ?deleted=true lists it, restore brings it back, DELETE /trash
empties it; expired trash is invisible at once and purged by `flask todo purge` (with old
tombstones); counters and X-Total-Count leave the trash out; `version` and `deleted_at` in
every task and refused in bodies; account deletion takes the trash and tombstones along;
trash, restore and purge racing on one task."""

import itertools
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import PASSWORD, assert_problem
from tests.threads import at_once
from todo.accounts.models import users
from todo.columns import utcnow
from todo.extensions import db
from todo.tasks.models import purged_tasks, tasks


def create(client, user, title, **fields):
    answer = client.post(
        f"/api/{user['user_id']}/tasks", json={"title": title, **fields}, headers=user["headers"]
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def trash(client, user, task_id):
    answer = client.delete(f"/api/{user['user_id']}/tasks/{task_id}", headers=user["headers"])
    assert answer.status_code == 204, answer.get_data(as_text=True)


def listed(client, user, **query):
    """The ids a list query answers, and the answer."""
    answer = client.get(
        f"/api/{user['user_id']}/tasks", query_string=query, headers=user["headers"]
    )
    assert answer.status_code == 200, answer.get_json()
    return [task["id"] for task in answer.get_json()], answer


def next_url(answer) -> str | None:
    link = answer.headers.get("Link")
    return re.fullmatch(r'<http://localhost(.+)>; rel="next"', link).group(1) if link else None


def backdate(app, table, column: str, task_id: str, days: float) -> None:
    """Test setup: the task's `column` in `table` was set `days` days ago."""
    with app.app_context():
        db.session.execute(
            update(table)
            .where(table.c.id == uuid.UUID(task_id))
            .values({column: utcnow() - timedelta(days=days)})
        )
        db.session.commit()


def deleted_days_ago(app, task_id, days):
    """Test setup: the task went to the trash `days` days ago."""
    backdate(app, tasks, "deleted_at", task_id, days)


def tombstones(app) -> list[tuple[str, str]]:
    """(user_id, task_id) of every row of purged_tasks."""
    with app.app_context():
        rows = db.session.execute(select(purged_tasks.c.user_id, purged_tasks.c.id)).all()
    return sorted((str(user_id), str(task_id)) for user_id, task_id in rows)


def counters(app, user) -> tuple[int, int]:
    with app.app_context():
        row = db.session.execute(
            select(users.c.task_count, users.c.completed_count).where(
                users.c.id == uuid.UUID(user["user_id"])
            )
        ).one()
    return tuple(row)


def test_delete_moves_the_task_to_the_trash_out_of_every_live_read(
    client, user, task, task_url, stored_tasks
):
    assert client.delete(task_url, headers=user["headers"]).status_code == 204
    assert_problem(client.get(task_url, headers=user["headers"]), 404)
    assert listed(client, user)[0] == []
    [row] = stored_tasks()
    assert row.deleted_at is not None and row.version == 2
    ids, answer = listed(client, user, deleted="true")
    assert ids == [task["id"]]
    [trashed] = answer.get_json()
    assert trashed["deleted_at"] is not None and trashed["version"] == 2
    assert answer.headers["X-Total-Count"] == "1"


def test_delete_with_a_stale_if_match_is_412_and_leaves_the_task_live(
    client, user, task_url, stored_tasks
):
    client.patch(task_url, json={"title": "Changed"}, headers=user["headers"])
    answer = client.delete(task_url, headers={**user["headers"], "If-Match": '"1"'})
    assert_problem(answer, 412)
    [row] = stored_tasks()
    assert (row.deleted_at, row.version) == (None, 2)
    assert (
        client.delete(task_url, headers={**user["headers"], "If-Match": '"2"'}).status_code == 204
    )


def test_the_trash_pages_newest_deletion_first_or_oldest_on_request(client, user):
    ids = [create(client, user, f"t{n}")["id"] for n in range(5)]
    create(client, user, "stays live")
    for task_id in ids:
        trash(client, user, task_id)
    url = f"/api/{user['user_id']}/tasks?deleted=true&limit=2"
    pages = []
    while url:
        answer = client.get(url, headers=user["headers"])
        assert answer.status_code == 200
        assert answer.headers["X-Total-Count"] == "5"
        pages.append([task["id"] for task in answer.get_json()])
        url = next_url(answer)
    assert pages == [ids[4:2:-1], ids[2:0:-1], ids[:1]]
    assert listed(client, user, deleted="true", sort="deleted_at")[0] == ids


@pytest.mark.parametrize("sort", ["deleted_at", "-deleted_at"])
def test_sorting_the_live_list_by_deleted_at_is_400(client, user, task, sort):
    answer = client.get(
        f"/api/{user['user_id']}/tasks", query_string={"sort": sort}, headers=user["headers"]
    )
    assert "sort" in assert_problem(answer, 400)["errors"]


def test_restore_brings_the_task_back_with_its_version_bumped(
    client, user, task, task_url, stored_tasks
):
    client.delete(task_url, headers=user["headers"])
    answer = client.post(f"{task_url}/restore", headers=user["headers"])
    assert answer.status_code == 200
    restored = answer.get_json()
    assert (restored["deleted_at"], restored["version"]) == (None, 3)
    assert answer.headers["ETag"] == '"3"'
    assert {k: restored[k] for k in ("id", "title", "description", "completed")} == {
        k: task[k] for k in ("id", "title", "description", "completed")
    }
    assert client.get(task_url, headers=user["headers"]).get_json() == restored
    assert listed(client, user, deleted="true")[0] == []
    [row] = stored_tasks()
    assert (row.deleted_at, row.version) == (None, 3)


def test_restoring_a_live_task_answers_it_unchanged(client, user, task, task_url, stored_tasks):
    answer = client.post(f"{task_url}/restore", headers=user["headers"])
    assert answer.status_code == 200
    assert answer.get_json() == task
    assert answer.headers["ETag"] == '"1"'
    assert stored_tasks()[0].version == 1


def test_restore_of_an_unknown_task_or_another_users_is_404(client, user, other_user, stored_tasks):
    theirs = create(client, other_user, "Theirs")
    trash(client, other_user, theirs["id"])
    mine = f"/api/{user['user_id']}/tasks"
    for task_id in (uuid.uuid4(), theirs["id"]):
        assert_problem(client.post(f"{mine}/{task_id}/restore", headers=user["headers"]), 404)
    [row] = stored_tasks()
    assert (row.deleted_at is not None, row.version) == (True, 2)


@pytest.mark.parametrize("how", ["purge", "empty the trash"])
def test_restore_of_a_purged_task_is_410(client, user, task, task_url, how):
    if how == "purge":
        client.delete(f"{task_url}?purge=true", headers=user["headers"])
    else:
        client.delete(task_url, headers=user["headers"])
        client.delete(f"/api/{user['user_id']}/trash", headers=user["headers"])
    assert_problem(client.post(f"{task_url}/restore", headers=user["headers"]), 410)


def test_restore_with_a_stale_if_match_is_412_and_leaves_it_in_the_trash(
    client, user, task_url, stored_tasks
):
    client.delete(task_url, headers=user["headers"])
    answer = client.post(f"{task_url}/restore", headers={**user["headers"], "If-Match": '"1"'})
    assert_problem(answer, 412)
    [row] = stored_tasks()
    assert (row.deleted_at is not None, row.version) == (True, 2)
    answer = client.post(f"{task_url}/restore", headers={**user["headers"], "If-Match": '"2"'})
    assert answer.status_code == 200 and answer.get_json()["version"] == 3


@pytest.mark.parametrize("trashed_first", [False, True], ids=["live", "trashed"])
def test_purge_deletes_the_row_and_leaves_a_tombstone(
    app, client, user, task, task_url, stored_tasks, trashed_first
):
    if trashed_first:
        client.delete(task_url, headers=user["headers"])
    assert client.delete(f"{task_url}?purge=true", headers=user["headers"]).status_code == 204
    assert stored_tasks() == []
    assert tombstones(app) == [(user["user_id"], task["id"])]
    assert listed(client, user, deleted="true")[0] == []
    assert_problem(client.delete(f"{task_url}?purge=true", headers=user["headers"]), 404)


def test_emptying_the_trash_purges_it_all_and_nothing_else(
    app, client, user, other_user, stored_tasks
):
    live, *trashed = [create(client, user, f"t{n}")["id"] for n in range(3)]
    for task_id in trashed:
        trash(client, user, task_id)
    theirs = create(client, other_user, "Theirs")["id"]
    trash(client, other_user, theirs)
    answer = client.delete(f"/api/{user['user_id']}/trash", headers=user["headers"])
    assert answer.status_code == 204
    assert sorted(str(row.id) for row in stored_tasks()) == sorted([live, theirs])
    assert tombstones(app) == sorted((user["user_id"], task_id) for task_id in trashed)
    assert listed(client, user)[0] == [live]
    assert listed(client, other_user, deleted="true")[0] == [theirs]


def test_with_no_retention_a_delete_purges_at_once(make_app, app, user, task, stored_tasks):
    client = make_app(TRASH_RETENTION_DAYS=0).test_client()
    url = f"/api/{user['user_id']}/tasks/{task['id']}"
    assert client.delete(url, headers=user["headers"]).status_code == 204
    assert stored_tasks() == []
    assert tombstones(app) == [(user["user_id"], task["id"])]


def test_expired_trash_is_invisible_at_once_and_not_restorable(app, client, user, stored_tasks):
    expired, *fresh = [create(client, user, f"t{n}")["id"] for n in range(3)]
    for task_id in (expired, *fresh):
        trash(client, user, task_id)
    deleted_days_ago(app, expired, 31)
    ids, answer = listed(client, user, deleted="true", limit=1)
    assert answer.headers["X-Total-Count"] == "2"
    assert ids + listed(client, user, deleted="true")[0][1:] == fresh[::-1]
    url = f"/api/{user['user_id']}/tasks/{expired}/restore"
    assert_problem(client.post(url, headers=user["headers"]), 410)
    assert len(stored_tasks()) == 3  # invisible, but not purged until `flask todo purge`


def test_retention_is_a_setting_of_reads(make_app, app, client, user, task, task_url):
    client.delete(task_url, headers=user["headers"])
    deleted_days_ago(app, task["id"], 8)
    assert listed(client, user, deleted="true")[0] == [task["id"]]
    week = make_app(TRASH_RETENTION_DAYS=7).test_client()
    answer = week.get(
        f"/api/{user['user_id']}/tasks?deleted=true", headers=user["headers"]
    ).get_json()
    assert answer == []
    assert_problem(week.post(f"{task_url}/restore", headers=user["headers"]), 410)


def test_purge_command_purges_expired_trash_and_keeps_every_tombstone(
    app, client, user, other_user, stored_tasks
):
    expired, fresh, live, old_purge, new_purge = [
        create(client, user, name)["id"] for name in ("expired", "fresh", "live", "old", "new")
    ]
    theirs = create(client, other_user, "theirs expired")["id"]
    for task_id in (expired, fresh):
        trash(client, user, task_id)
    trash(client, other_user, theirs)
    deleted_days_ago(app, expired, 31)
    deleted_days_ago(app, theirs, 45)
    for task_id in (old_purge, new_purge):
        url = f"/api/{user['user_id']}/tasks/{task_id}?purge=true"
        assert client.delete(url, headers=user["headers"]).status_code == 204
    backdate(app, purged_tasks, "purged_at", old_purge, 91)  # kept however old

    purged = app.test_cli_runner().invoke(args=["todo", "purge"])

    assert purged.exit_code == 0, purged.output
    assert purged.output == (
        "purged 2 expired tasks and 0 expired lists from the trash, "
        "forgot 0 expired revocations and 0 expired idempotency keys\n"
    )
    assert sorted(str(row.id) for row in stored_tasks()) == sorted([fresh, live])
    assert tombstones(app) == sorted(
        [
            *((user["user_id"], task_id) for task_id in (expired, old_purge, new_purge)),
            (other_user["user_id"], theirs),
        ]
    )
    again = app.test_cli_runner().invoke(args=["todo", "purge"])
    assert again.output.startswith("purged 0 expired tasks and 0 expired lists from the trash")


def test_the_purge_command_follows_the_retention_settings(make_app, app, client, user):
    task_id = create(client, user, "a week in the trash")["id"]
    trash(client, user, task_id)
    deleted_days_ago(app, task_id, 8)
    default = app.test_cli_runner().invoke(args=["todo", "purge"])
    assert default.output.startswith("purged 0 expired tasks")
    short = make_app(TRASH_RETENTION_DAYS=7)
    first = short.test_cli_runner().invoke(args=["todo", "purge"])
    assert first.output.startswith("purged 1 expired tasks and 0 expired lists from the trash")
    assert tombstones(app) == [(user["user_id"], task_id)]


def test_a_trashed_completed_task_is_counted_again_once_restored(app, client, user):
    ids = [create(client, user, f"t{n}", completed=n < 3)["id"] for n in range(4)]

    def totals():
        return [
            listed(client, user, limit=1, **query)[1].headers["X-Total-Count"]
            for query in ({}, {"completed": "true"}, {"completed": "false"})
        ]

    assert totals() == ["4", "3", "1"]
    trash(client, user, ids[0])
    assert totals() == ["3", "2", "1"]
    assert counters(app, user) == (3, 2)
    assert ids[0] not in listed(client, user, completed="true")[0]
    url = f"/api/{user['user_id']}/tasks/{ids[0]}/restore"
    assert client.post(url, headers=user["headers"]).status_code == 200
    assert totals() == ["4", "3", "1"]
    assert counters(app, user) == (4, 3)


def test_every_task_answer_has_its_version_and_a_null_deleted_at(client, user, tasks_url):
    created = client.post(tasks_url, json={"title": "Versioned"}, headers=user["headers"])
    url = created.headers["Location"]
    answers = [
        created,
        client.get(url, headers=user["headers"]),
        client.patch(url, json={"title": "Renamed"}, headers=user["headers"]),
        client.put(url, json={"title": "Replaced"}, headers=user["headers"]),
        client.patch(f"{url}/complete", headers=user["headers"]),
    ]
    for answer in answers:
        body = answer.get_json()
        assert body["version"] == int(answer.headers["ETag"].strip('"'))
        assert body["deleted_at"] is None
    assert [answer.get_json()["version"] for answer in answers] == [1, 1, 2, 3, 4]
    [in_list] = client.get(tasks_url, headers=user["headers"]).get_json()
    assert (in_list["version"], in_list["deleted_at"]) == (4, None)


@pytest.mark.parametrize("field", ["version", "deleted_at"])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_version_or_deleted_at_in_a_body_is_422(
    client, user, task, task_url, tasks_url, stored_tasks, method, field
):
    value = 7 if field == "version" else "2026-01-01T00:00:00Z"
    url = tasks_url if method == "POST" else task_url
    answer = client.open(
        url, method=method, json={"title": "New", field: value}, headers=user["headers"]
    )
    assert assert_problem(answer, 422)["errors"] == {field: ["Unknown field."]}
    [row] = stored_tasks()
    assert (row.title, row.version, row.deleted_at) == (task["title"], 1, None)


def test_deleting_the_account_takes_its_trash_and_tombstones_along(
    app, client, user, other_user, stored_tasks
):
    mine = [create(client, user, f"t{n}")["id"] for n in range(3)]
    trash(client, user, mine[1])
    client.delete(f"/api/{user['user_id']}/tasks/{mine[2]}?purge=true", headers=user["headers"])
    theirs = [create(client, other_user, f"o{n}")["id"] for n in range(3)]
    trash(client, other_user, theirs[1])
    url = f"/api/{other_user['user_id']}/tasks/{theirs[2]}?purge=true"
    client.delete(url, headers=other_user["headers"])

    answer = client.delete("/api/auth/me", json={"password": PASSWORD}, headers=user["headers"])

    assert answer.status_code == 204
    assert {str(row.user_id) for row in stored_tasks()} == {other_user["user_id"]}
    assert sorted(str(row.id) for row in stored_tasks()) == sorted(theirs[:2])
    assert tombstones(app) == [(other_user["user_id"], theirs[2])]


def restores_racing(app, user, task_url, write):
    """10 restores and 10 `write`s of one task released at once: the answers of each."""
    turns = itertools.count()

    def restore_or_write(client):
        if next(turns) % 2:
            return "restore", client.post(f"{task_url}/restore", headers=user["headers"])
        return "write", write(client)

    answers = at_once(app, 20, restore_or_write)
    writes = [answer for kind, answer in answers if kind == "write"]
    restores = [answer for kind, answer in answers if kind == "restore"]
    assert len(writes) == len(restores) == 10
    return writes, restores


def test_10_restores_and_10_trashes_at_once_leave_one_consistent_task(
    app, client, user, task, task_url, stored_tasks
):
    trashes, restores = restores_racing(
        app, user, task_url, lambda client: client.delete(task_url, headers=user["headers"])
    )

    assert 204 in [answer.status_code for answer in trashes]
    assert [answer.status_code for answer in restores] == [200] * 10
    # A live task has an odd version, a trashed one an even one: each restore that changed
    # something answers an odd version of its own above 1, one that did not an earlier one.
    restored = {answer.get_json()["version"] for answer in restores} - {1}
    restored = {version for version in restored if version % 2}
    trashed = [answer.status_code for answer in trashes].count(204)
    [row] = stored_tasks()
    assert row.version == 1 + trashed + len(restored)
    is_live = row.deleted_at is None
    assert is_live == (row.version % 2 == 1)
    assert client.get(task_url, headers=user["headers"]).status_code == (200 if is_live else 404)
    live, answer = listed(client, user)
    assert (live, answer.headers["X-Total-Count"]) == (
        ([task["id"]], "1") if is_live else ([], "0")
    )
    assert listed(client, user, deleted="true")[0] == ([] if is_live else [task["id"]])
    assert counters(app, user) == ((1, 0) if is_live else (0, 0))


def test_a_restore_racing_trashes_never_answers_200_with_the_task_still_in_the_trash(
    app, user, task_url
):
    _, restores = restores_racing(
        app, user, task_url, lambda client: client.delete(task_url, headers=user["headers"])
    )
    answered = [(answer.status_code, answer.get_json()["deleted_at"]) for answer in restores]
    assert answered == [(200, None)] * 10


@pytest.mark.parametrize("write", ["delete", "patch"])
def test_a_write_without_if_match_racing_restores_is_never_412(app, client, user, task_url, write):
    client.delete(task_url, headers=user["headers"])  # restores then bring it back

    def send(client):
        if write == "delete":
            return client.delete(task_url, headers=user["headers"])
        return client.patch(task_url, json={"title": "Renamed"}, headers=user["headers"])

    writes, _ = restores_racing(app, user, task_url, send)
    done = 204 if write == "delete" else 200
    assert sorted({answer.status_code for answer in writes}) in ([done], [done, 404], [404])


def test_trashes_and_purges_of_one_task_at_once_purge_it_once(
    app, client, user, task, task_url, stored_tasks
):
    turns = itertools.count()

    def trash_or_purge(client):
        if next(turns) % 2:
            return "purge", client.delete(f"{task_url}?purge=true", headers=user["headers"])
        return "trash", client.delete(task_url, headers=user["headers"])

    answers = at_once(app, 20, trash_or_purge)

    purges = [answer.status_code for kind, answer in answers if kind == "purge"]
    trashes = [answer.status_code for kind, answer in answers if kind == "trash"]
    assert purges.count(204) == 1 and set(purges) == {204, 404}
    assert trashes.count(204) <= 1 and set(trashes) <= {204, 404}
    assert stored_tasks() == []
    assert tombstones(app) == [(user["user_id"], task["id"])]
    assert counters(app, user) == (0, 0)
    assert_problem(client.post(f"{task_url}/restore", headers=user["headers"]), 410)


def test_restores_racing_an_emptied_trash_each_end_one_way(app, client, user, stored_tasks):
    ids = [create(client, user, f"t{n}")["id"] for n in range(10)]
    for task_id in ids:
        trash(client, user, task_id)
    turns = itertools.count()

    def restore_or_empty(client):
        turn = next(turns)
        if turn == len(ids):
            return None, client.delete(f"/api/{user['user_id']}/trash", headers=user["headers"])
        url = f"/api/{user['user_id']}/tasks/{ids[turn]}/restore"
        return ids[turn], client.post(url, headers=user["headers"])

    answers = at_once(app, len(ids) + 1, restore_or_empty)

    assert [answer.status_code for task_id, answer in answers if task_id is None] == [204]
    outcome = {task_id: answer.status_code for task_id, answer in answers if task_id}
    assert set(outcome.values()) <= {200, 410}
    restored = sorted(task_id for task_id, status in outcome.items() if status == 200)
    assert sorted(str(row.id) for row in stored_tasks()) == restored
    assert all(row.deleted_at is None for row in stored_tasks())
    purged = sorted((user["user_id"], task_id) for task_id, s in outcome.items() if s == 410)
    assert tombstones(app) == purged
    assert listed(client, user)[1].headers["X-Total-Count"] == str(len(restored))
    assert counters(app, user) == (len(restored), 0)
