"""Lists: their own CRUD, order, trash and feed entries, and tasks in them (list_id, the
filter, moves between lists). A task can never point at another user's list, by any route."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tests.conftest import assert_problem
from tests.test_due import create, listed, patch, tasks_url
from tests.test_feed import poll
from todo.extensions import db
from todo.lists.models import MOST_LIVE, lists
from todo.tasks.models import tasks


def lists_url(user) -> str:
    return f"/api/{user['user_id']}/lists"


def new_list(client, user, name="Groceries", **fields) -> dict:
    answer = client.post(lists_url(user), json={"name": name, **fields}, headers=user["headers"])
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def names(client, user, **query) -> list[str]:
    answer = client.get(lists_url(user), query_string=query, headers=user["headers"])
    assert answer.status_code == 200
    return [found["name"] for found in answer.get_json()]


def test_a_list_is_created_read_renamed_and_listed_in_order(client, user):
    made = client.post(lists_url(user), json={"name": "  Home  "}, headers=user["headers"])
    assert made.status_code == 201
    home = made.get_json()
    assert made.headers["Location"].endswith(f"/lists/{home['id']}")
    assert made.headers["ETag"] == '"1"'
    assert home["name"] == "Home" and home["user_id"] == user["user_id"]
    assert (home["task_count"], home["completed_count"], home["deleted_at"]) == (0, 0, None)
    work = new_list(client, user, "Work")
    assert work["position"] > home["position"]
    assert names(client, user) == ["Home", "Work"]
    url = f"{lists_url(user)}/{home['id']}"
    stale = client.patch(url, json={"name": "x"}, headers={**user["headers"], "If-Match": '"9"'})
    assert_problem(stale, 412)
    renamed = client.patch(
        url, json={"name": "Home!"}, headers={**user["headers"], "If-Match": '"1"'}
    )
    assert renamed.status_code == 200 and renamed.headers["ETag"] == '"2"'
    assert client.get(url, headers=user["headers"]).get_json()["name"] == "Home!"
    same = client.patch(url, json={"name": "Home!"}, headers=user["headers"])
    assert same.get_json()["version"] == 2  # nothing changed: no new version


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, 7, None])
def test_a_bad_name_is_422_and_nothing_is_written(client, user, name):
    answer = client.post(lists_url(user), json={"name": name}, headers=user["headers"])
    assert answer.status_code == 422 and "name" in answer.get_json()["errors"]
    assert names(client, user) == []


def test_another_users_lists_are_403_and_unknown_ones_404(client, user, other_user):
    theirs = new_list(client, other_user, "theirs")
    assert_problem(client.get(lists_url(other_user), headers=user["headers"]), 403)
    assert_problem(client.get(f"{lists_url(user)}/{theirs['id']}", headers=user["headers"]), 404)
    assert_problem(client.delete(f"{lists_url(user)}/{theirs['id']}", headers=user["headers"]), 404)
    assert names(client, other_user) == ["theirs"]


def test_the_collection_answers_304_until_a_list_or_a_task_changes(client, user):
    groceries = new_list(client, user)
    first = client.get(lists_url(user), headers=user["headers"])
    tag = first.headers["ETag"]
    assert tag.startswith('W/"') and first.headers["Cache-Control"] == "private, no-cache"
    conditional = {**user["headers"], "If-None-Match": tag}
    again = client.get(lists_url(user), headers=conditional)
    assert (again.status_code, again.data, again.headers["ETag"]) == (304, b"", tag)
    create(client, user, "milk", list_id=groceries["id"])
    changed = client.get(lists_url(user), headers=conditional)
    assert changed.status_code == 200 and changed.get_json()[0]["task_count"] == 1


def test_counts_are_the_lists_live_and_completed_tasks(client, user):
    groceries = new_list(client, user)
    milk = create(client, user, "milk", list_id=groceries["id"])
    create(client, user, "eggs", list_id=groceries["id"], completed=True)
    create(client, user, "inbox task")
    gone = create(client, user, "gone", list_id=groceries["id"])
    client.delete(f"{tasks_url(user)}/{gone['id']}", headers=user["headers"])
    read = client.get(f"{lists_url(user)}/{groceries['id']}", headers=user["headers"]).get_json()
    assert (read["task_count"], read["completed_count"]) == (2, 1)
    assert milk["list_id"] == groceries["id"]
    assert {t["title"] for t in listed(client, user, list_id=groceries["id"])} == {"milk", "eggs"}
    assert [t["title"] for t in listed(client, user, list_id="inbox")] == ["inbox task"]
    assert_problem(
        client.get(tasks_url(user), query_string={"list_id": "x"}, headers=user["headers"]), 400
    )


def test_a_task_moves_between_lists_by_patch_and_by_move(client, user):
    home, work = new_list(client, user, "Home"), new_list(client, user, "Work")
    task = create(client, user, "call", list_id=home["id"])
    assert (
        patch(client, user, task["id"], {"list_id": work["id"]}).get_json()["list_id"] == work["id"]
    )
    assert patch(client, user, task["id"], {"list_id": None}).get_json()["list_id"] is None
    there = create(client, user, "there", list_id=home["id"])
    moved = client.post(
        f"{tasks_url(user)}/{task['id']}/move",
        json={"list_id": home["id"], "before": there["id"]},
        headers=user["headers"],
    )
    assert moved.status_code == 200
    assert moved.get_json()["list_id"] == home["id"]
    in_home = listed(client, user, list_id=home["id"], sort="position")
    assert [t["title"] for t in in_home] == ["call", "there"]


def test_a_neighbour_in_another_list_is_422(client, user):
    home = new_list(client, user, "Home")
    inbox_task = create(client, user, "inbox")
    home_task = create(client, user, "home", list_id=home["id"])
    answer = client.post(
        f"{tasks_url(user)}/{inbox_task['id']}/move",
        json={"after": home_task["id"]},
        headers=user["headers"],
    )
    assert list(assert_problem(answer, 422)["errors"]) == ["after"]
    within = client.post(
        f"{tasks_url(user)}/{inbox_task['id']}/move",
        json={"list_id": home["id"], "after": home_task["id"]},
        headers=user["headers"],
    )
    assert within.status_code == 200 and within.get_json()["list_id"] == home["id"]


def test_a_task_never_points_at_another_users_or_a_trashed_list(client, user, other_user):
    theirs = new_list(client, other_user, "theirs")["id"]
    trashed = new_list(client, user, "trashed")["id"]
    client.delete(f"{lists_url(user)}/{trashed}", headers=user["headers"])
    mine = create(client, user, "mine")
    for list_id in (theirs, trashed, str(uuid.uuid4())):
        tries = [
            client.post(
                tasks_url(user), json={"title": "x", "list_id": list_id}, headers=user["headers"]
            ),
            patch(client, user, mine["id"], {"list_id": list_id}),
            client.put(
                f"{tasks_url(user)}/{mine['id']}",
                json={"title": "x", "list_id": list_id},
                headers=user["headers"],
            ),
            client.post(
                f"{tasks_url(user)}/{mine['id']}/move",
                json={"list_id": list_id},
                headers=user["headers"],
            ),
        ]
        assert_422_on(tries, "list_id")
        batch = client.post(
            f"/api/{user['user_id']}/batch",
            json={
                "atomic": True,
                "operations": [
                    {"op": "create", "task": {"title": "y"}},
                    {"op": "patch", "id": mine["id"], "changes": {"list_id": list_id}},
                ],
            },
            headers=user["headers"],
        )
        assert batch.status_code == 422, batch.get_json()
        assert batch.get_json()["index"] == 1
    assert [(t["title"], t["list_id"]) for t in listed(client, user)] == [("mine", None)]


def test_the_database_itself_refuses_a_task_in_another_users_list(app, client, user, other_user):
    theirs = uuid.UUID(new_list(client, other_user, "theirs")["id"])
    assert_refused(app, user, create(client, user, "mine")["id"], list_id=theirs)


def assert_422_on(answers, field: str) -> None:
    """Every one of `answers` is a 422 naming `field`."""
    for answer in answers:
        assert answer.status_code == 422, answer.get_json()
        assert field in answer.get_json()["errors"]


def assert_refused(app, user, task_id: str, **values) -> None:
    """The database refuses to write `values` into the user's task, whatever the app does."""
    with app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(
                update(tasks)
                .where(
                    tasks.c.user_id == uuid.UUID(user["user_id"]), tasks.c.id == uuid.UUID(task_id)
                )
                .values(**values)
            )
        db.session.rollback()


def test_a_chosen_id_replays_the_same_create_and_is_409_otherwise(client, user):
    chosen = str(uuid.uuid4())
    body = {"id": chosen, "name": "Trip"}
    first = client.post(lists_url(user), json=body, headers=user["headers"])
    again = client.post(lists_url(user), json=body, headers=user["headers"])
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() and first.get_json()["id"] == chosen
    other = client.post(lists_url(user), json={**body, "name": "Other"}, headers=user["headers"])
    assert assert_problem_type(other, 409) == "/problems/id-conflict"
    client.delete(f"{lists_url(user)}/{chosen}?purge=true", headers=user["headers"])
    after_purge = client.post(lists_url(user), json=body, headers=user["headers"])
    assert assert_problem_type(after_purge, 409) == "/problems/id-conflict"
    assert names(client, user) == []


def assert_problem_type(answer, status: int) -> str:
    assert answer.status_code == status and answer.content_type == "application/problem+json"
    return answer.get_json()["type"]


def test_a_user_has_at_most_500_live_lists(app, client, user):
    now = datetime.now(UTC)
    with app.app_context():
        db.session.execute(
            insert(lists),
            [
                {
                    "user_id": uuid.UUID(user["user_id"]),
                    "id": uuid.uuid4(),
                    "name": f"l{n}",
                    "position": f"a{n:04}",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(MOST_LIVE - 1)
            ],
        )
        db.session.commit()
    last = new_list(client, user, "last")
    refused = client.post(lists_url(user), json={"name": "one more"}, headers=user["headers"])
    assert assert_problem_type(refused, 422) == "/problems/too-many-lists"
    client.delete(f"{lists_url(user)}/{last['id']}", headers=user["headers"])
    new_list(client, user, "one more")
    assert len(names(client, user)) == MOST_LIVE


def test_lists_move_like_tasks(client, user):
    a, b, c = (new_list(client, user, name) for name in "ABC")
    move_url = f"{lists_url(user)}/{c['id']}/move"
    assert (
        client.post(move_url, json={"after": a["id"]}, headers=user["headers"]).status_code == 200
    )
    assert names(client, user) == ["A", "C", "B"]
    assert (
        client.post(move_url, json={"before": a["id"]}, headers=user["headers"]).status_code == 200
    )
    assert names(client, user) == ["C", "A", "B"]
    stale = client.post(
        move_url, json={"after": b["id"], "before": a["id"]}, headers=user["headers"]
    )
    assert assert_problem_type(stale, 409) == "/problems/stale-order"
    unknown = client.post(move_url, json={"after": str(uuid.uuid4())}, headers=user["headers"])
    assert_problem(unknown, 404)
    itself = client.post(move_url, json={"before": c["id"]}, headers=user["headers"])
    assert list(assert_problem(itself, 422)["errors"]) == ["before"]
    placed = new_list(client, user, "D", after=c["id"])
    assert names(client, user) == ["C", "D", "A", "B"] and placed["name"] == "D"


def test_deleting_a_list_trashes_its_tasks_and_restoring_brings_them_back(client, user):
    home = new_list(client, user, "Home")
    kept = [create(client, user, f"t{n}", list_id=home["id"]) for n in range(3)]
    earlier = create(client, user, "trashed before", list_id=home["id"])
    client.delete(f"{tasks_url(user)}/{earlier['id']}", headers=user["headers"])
    inbox = create(client, user, "inbox")
    cursor = poll(client, user, None)["next"]
    assert (
        client.delete(f"{lists_url(user)}/{home['id']}", headers=user["headers"]).status_code == 204
    )
    assert [t["title"] for t in listed(client, user)] == ["inbox"]
    assert names(client, user) == []
    assert names(client, user, deleted="true") == ["Home"]
    assert_problem(client.get(f"{lists_url(user)}/{home['id']}", headers=user["headers"]), 404)
    page = poll(client, user, cursor)
    assert [gone["id"] for gone in page["deleted_lists"]] == [home["id"]]
    assert {gone["id"] for gone in page["deleted"]} == {task["id"] for task in kept}
    restored = client.post(f"{lists_url(user)}/{home['id']}/restore", headers=user["headers"])
    assert restored.status_code == 200 and restored.get_json()["task_count"] == 3
    titles = {t["title"] for t in listed(client, user, list_id=home["id"])}
    assert titles == {"t0", "t1", "t2"}  # not the task trashed before the list
    back = poll(client, user, page["next"])
    assert [found["id"] for found in back["lists"]] == [home["id"]]
    assert {task["id"] for task in back["tasks"]} == {task["id"] for task in kept}
    assert inbox["id"] not in {task["id"] for task in back["tasks"]}


def test_purging_a_list_purges_its_tasks_for_good(client, user):
    home = new_list(client, user, "Home")
    task = create(client, user, "t", list_id=home["id"])
    cursor = poll(client, user, None)["next"]
    url = f"{lists_url(user)}/{home['id']}"
    assert client.delete(f"{url}?purge=true", headers=user["headers"]).status_code == 204
    page = poll(client, user, cursor)
    assert [(g["id"], g["purged"]) for g in page["deleted_lists"]] == [(home["id"], True)]
    assert [(g["id"], g["purged"]) for g in page["deleted"]] == [(task["id"], True)]
    assert_problem(client.post(f"{url}/restore", headers=user["headers"]), 410)
    assert listed(client, user, deleted="true") == []


def test_a_first_sync_holds_the_live_lists(client, user):
    home = new_list(client, user, "Home")
    gone = new_list(client, user, "Gone")
    client.delete(f"{lists_url(user)}/{gone['id']}", headers=user["headers"])
    page = poll(client, user, None)
    assert [found["id"] for found in page["lists"]] == [home["id"]]
    assert page["deleted_lists"] == []


def test_a_list_of_10000_tasks_goes_and_comes_back_in_one_statement_and_change_each(
    app, client, user, sent_statements
):
    home = new_list(client, user, "Big")
    owner, list_id = uuid.UUID(user["user_id"]), uuid.UUID(home["id"])
    now = datetime.now(UTC)
    with app.app_context():
        db.session.execute(
            insert(tasks),
            [
                {
                    "user_id": owner,
                    "id": uuid.uuid4(),
                    "title": f"t{n}",
                    "created_by": owner,
                    "updated_by": owner,
                    "created_at": now,
                    "updated_at": now,
                    "list_id": list_id,
                }
                for n in range(10_000)
            ],
        )
        db.session.commit()

    def numbers():
        with app.app_context():
            return db.session.execute(
                select(
                    func.count(), func.min(tasks.c.change_number), func.max(tasks.c.change_number)
                )
                .where(tasks.c.user_id == owner, tasks.c.list_id == list_id)
                .group_by(tasks.c.deleted_at.is_(None))
            ).all()

    url = f"{lists_url(user)}/{home['id']}"
    sent_statements.clear()
    assert client.delete(url, headers=user["headers"]).status_code == 204
    assert tasks_statements(sent_statements) == 1
    [(count, low, high)] = numbers()
    assert count == 10_000 and low == high
    sent_statements.clear()
    restored = client.post(f"{url}/restore", headers=user["headers"])
    assert restored.status_code == 200 and restored.get_json()["task_count"] == 10_000
    assert tasks_statements(sent_statements) == 1
    [(count, low_after, high_after)] = numbers()
    assert count == 10_000 and low_after == high_after > high


def tasks_statements(sent: list[str]) -> int:
    """How many statements wrote the tasks table (beside the change's numbering)."""
    return sum(
        1
        for statement in sent
        if "UPDATE tasks SET" in statement and "deleted_at" in statement.split("WHERE")[0]
    )


def test_the_purge_command_purges_expired_lists_with_what_is_left_in_them(app, client, user):
    home, kept = new_list(client, user, "Home"), new_list(client, user, "Kept")
    trashed_with = create(client, user, "trashed with it", list_id=home["id"])
    restored_alone = create(client, user, "restored alone", list_id=home["id"])
    client.delete(f"{lists_url(user)}/{home['id']}", headers=user["headers"])
    back = client.post(f"{tasks_url(user)}/{restored_alone['id']}/restore", headers=user["headers"])
    assert back.status_code == 200 and back.get_json()["list_id"] == home["id"]
    cursor = poll(client, user, None)["next"]
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    with app.app_context():
        owner = uuid.UUID(user["user_id"])
        for table in (lists, tasks):
            db.session.execute(
                update(table)
                .where(table.c.user_id == owner, table.c.deleted_at.is_not(None))
                .values(deleted_at=long_ago)
            )
        db.session.commit()
    purged = app.test_cli_runner().invoke(args=["todo", "purge"])
    assert purged.exit_code == 0, purged.output
    assert purged.output.startswith("purged 2 expired tasks and 1 expired lists from the trash")
    assert names(client, user) == ["Kept"] and names(client, user, deleted="true") == []
    assert listed(client, user) == []
    page = poll(client, user, cursor)
    assert [(g["id"], g["purged"]) for g in page["deleted_lists"]] == [(home["id"], True)]
    gone = {g["id"] for g in page["deleted"] if g["purged"]}
    assert gone == {trashed_with["id"], restored_alone["id"]}
    assert kept["id"] not in {found["id"] for found in page["lists"]}
