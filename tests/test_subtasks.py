"""Subtasks, one level deep: the rules a parent keeps, the database-kept `subtasks` counts
(the "2/5" badge), and what happens to the subtasks when their parent moves, goes to the
trash, comes back, is purged or rolls over."""

import uuid

import pytest

from tests.conftest import assert_problem
from tests.test_due import create, listed, patch, tasks_url
from tests.test_feed import poll
from tests.test_lists import (
    assert_422_on,
    assert_problem_type,
    assert_refused,
    lists_url,
    new_list,
)
from tests.test_recurrence import complete, history


def read(client, user, task) -> dict:
    answer = client.get(f"{tasks_url(user)}/{task['id']}", headers=user["headers"])
    assert answer.status_code == 200
    return answer.get_json()


def counts(client, user, task) -> dict:
    return read(client, user, task)["subtasks"]


@pytest.fixture
def parent(client, user):
    return create(client, user, "Trip")


def test_the_badge_follows_the_subtasks_live_and_completed(client, user, parent):
    assert parent["subtasks"] == {"total": 0, "completed": 0} and parent["parent_id"] is None
    tickets = create(client, user, "Tickets", parent_id=parent["id"])
    create(client, user, "Bags", parent_id=parent["id"], completed=True)
    assert tickets["parent_id"] == parent["id"]
    assert counts(client, user, parent) == {"total": 2, "completed": 1}
    complete(client, user, tickets["id"])
    assert counts(client, user, parent) == {"total": 2, "completed": 2}
    client.delete(f"{tasks_url(user)}/{tickets['id']}", headers=user["headers"])
    assert counts(client, user, parent) == {"total": 1, "completed": 1}
    client.post(f"{tasks_url(user)}/{tickets['id']}/restore", headers=user["headers"])
    assert counts(client, user, parent) == {"total": 2, "completed": 2}
    patch(client, user, tickets["id"], {"parent_id": None})
    assert counts(client, user, parent) == {"total": 1, "completed": 1}
    page = listed(client, user, parent_id="none")
    assert {task["title"]: task["subtasks"]["total"] for task in page} == {"Trip": 1, "Tickets": 0}
    assert [task["title"] for task in listed(client, user, parent_id=parent["id"])] == ["Bags"]


def test_completing_a_parent_completes_no_subtask(client, user, parent):
    child = create(client, user, "Tickets", parent_id=parent["id"])
    complete(client, user, parent["id"])
    assert read(client, user, child)["completed"] is False


@pytest.mark.parametrize(
    "problem",
    ["unknown", "theirs", "a subtask", "itself", "has subtasks", "trashed"],
)
def test_the_rules_of_a_parent_are_422_on_parent_id(client, user, other_user, parent, problem):
    child = create(client, user, "child", parent_id=parent["id"])
    loner = create(client, user, "loner")
    trashed = create(client, user, "trashed")
    client.delete(f"{tasks_url(user)}/{trashed['id']}", headers=user["headers"])
    task, parent_id = {
        "unknown": (loner, str(uuid.uuid4())),
        "theirs": (loner, create(client, other_user, "theirs")["id"]),
        "a subtask": (loner, child["id"]),
        "itself": (loner, loner["id"]),
        "has subtasks": (parent, loner["id"]),
        "trashed": (loner, trashed["id"]),
    }[problem]
    answers = [patch(client, user, task["id"], {"parent_id": parent_id})]
    answers.append(
        client.post(
            f"{tasks_url(user)}/{task['id']}/move",
            json={"parent_id": parent_id},
            headers=user["headers"],
        )
    )
    if problem not in ("itself", "has subtasks"):
        body = {"title": "new", "parent_id": parent_id}
        answers.append(client.post(tasks_url(user), json=body, headers=user["headers"]))
        answers.append(
            client.put(f"{tasks_url(user)}/{task['id']}", json=body, headers=user["headers"])
        )
    assert_422_on(answers, "parent_id")
    batch = client.post(
        f"/api/{user['user_id']}/batch",
        json={
            "operations": [{"op": "patch", "id": task["id"], "changes": {"parent_id": parent_id}}]
        },
        headers=user["headers"],
    )
    assert batch.status_code == 422 and batch.get_json()["index"] == 0
    assert read(client, user, task)["parent_id"] == task["parent_id"]
    assert counts(client, user, parent) == {"total": 1, "completed": 0}


def test_the_database_itself_refuses_another_users_task_as_parent(app, client, user, other_user):
    theirs = uuid.UUID(create(client, other_user, "theirs")["id"])
    assert_refused(app, user, create(client, user, "mine")["id"], parent_id=theirs)


def test_a_subtask_is_in_its_parents_list(client, user, parent):
    home = new_list(client, user, "Home")
    in_home = create(client, user, "in home", list_id=home["id"])
    child = create(client, user, "child", parent_id=in_home["id"])
    assert child["list_id"] == home["id"]  # taken from the parent
    refused = client.post(
        tasks_url(user),
        json={"title": "x", "parent_id": in_home["id"], "list_id": None},
        headers=user["headers"],
    )
    assert refused.status_code == 422 and "list_id" in refused.get_json()["errors"]
    assert_status_422(patch(client, user, child["id"], {"list_id": None}), "list_id")
    adopted = patch(client, user, child["id"], {"parent_id": parent["id"]}).get_json()
    assert (adopted["parent_id"], adopted["list_id"]) == (parent["id"], None)


def assert_status_422(answer, field: str) -> None:
    assert answer.status_code == 422 and field in answer.get_json()["errors"], answer.get_json()


def test_moving_a_parent_moves_its_subtasks_in_one_statement(client, user, parent, sent_statements):
    work = new_list(client, user, "Work")
    children = [create(client, user, f"c{n}", parent_id=parent["id"]) for n in range(5)]
    sent_statements.clear()
    moved = patch(client, user, parent["id"], {"list_id": work["id"]})
    assert moved.status_code == 200
    subtask_writes = [s for s in sent_statements if "UPDATE tasks SET" in s and "parent_id =" in s]
    assert len(subtask_writes) == 1, sent_statements
    in_work = {task["title"] for task in listed(client, user, list_id=work["id"])}
    assert in_work == {"Trip", *(child["title"] for child in children)}
    back = client.post(
        f"{tasks_url(user)}/{parent['id']}/move", json={"list_id": None}, headers=user["headers"]
    )
    assert back.status_code == 200
    assert listed(client, user, list_id=work["id"]) == []


def test_subtasks_are_ordered_among_their_siblings(client, user, parent):
    a, b = (create(client, user, name, parent_id=parent["id"]) for name in "AB")
    other = create(client, user, "other parent")
    stranger = create(client, user, "S", parent_id=other["id"])
    move_url = f"{tasks_url(user)}/{b['id']}/move"
    assert (
        client.post(move_url, json={"before": a["id"]}, headers=user["headers"]).status_code == 200
    )
    order = listed(client, user, parent_id=parent["id"], sort="position")
    assert [task["title"] for task in order] == ["B", "A"]
    elsewhere = client.post(move_url, json={"before": stranger["id"]}, headers=user["headers"])
    assert list(assert_problem(elsewhere, 422)["errors"]) == ["before"]
    into = client.post(
        move_url, json={"parent_id": other["id"], "after": stranger["id"]}, headers=user["headers"]
    )
    assert into.status_code == 200 and into.get_json()["parent_id"] == other["id"]
    assert counts(client, user, other)["total"] == 2 and counts(client, user, parent)["total"] == 1


def test_a_parent_goes_to_the_trash_and_comes_back_with_its_subtasks(client, user, parent):
    kept = [create(client, user, f"c{n}", parent_id=parent["id"]) for n in range(2)]
    earlier = create(client, user, "earlier", parent_id=parent["id"])
    client.delete(f"{tasks_url(user)}/{earlier['id']}", headers=user["headers"])
    url = f"{tasks_url(user)}/{parent['id']}"
    stale = client.delete(url, headers={**user["headers"], "If-Match": '"99"'})
    assert_problem(stale, 412)
    assert len(listed(client, user)) == 3
    assert client.delete(url, headers=user["headers"]).status_code == 204
    assert listed(client, user) == []
    in_trash = {task["title"] for task in listed(client, user, deleted="true")}
    assert in_trash == {"Trip", "c0", "c1", "earlier"}
    child_back = client.post(f"{tasks_url(user)}/{kept[0]['id']}/restore", headers=user["headers"])
    assert assert_problem_type(child_back, 409) == "/problems/parent-in-trash"
    restored = client.post(f"{url}/restore", headers=user["headers"])
    assert restored.status_code == 200
    assert restored.get_json()["subtasks"] == {"total": 2, "completed": 0}
    assert {task["title"] for task in listed(client, user)} == {"Trip", "c0", "c1"}


def test_purging_a_parent_purges_its_subtasks(client, user, parent):
    child = create(client, user, "child", parent_id=parent["id"])
    cursor = poll(client, user)["next"]
    url = f"{tasks_url(user)}/{parent['id']}?purge=true"
    assert client.delete(url, headers=user["headers"]).status_code == 204
    page = poll(client, user, cursor)
    assert {(gone["id"], gone["purged"]) for gone in page["deleted"]} == {
        (parent["id"], True),
        (child["id"], True),
    }


def test_a_list_trashed_and_restored_keeps_parents_and_subtasks_together(client, user):
    home = new_list(client, user, "Home")
    parent = create(client, user, "Trip", list_id=home["id"])
    create(client, user, "child", parent_id=parent["id"])
    client.delete(f"{lists_url(user)}/{home['id']}", headers=user["headers"])
    restored = client.post(f"{lists_url(user)}/{home['id']}/restore", headers=user["headers"])
    assert restored.get_json()["task_count"] == 2
    assert counts(client, user, parent) == {"total": 1, "completed": 0}


def test_a_recurring_parent_rolling_over_reopens_its_completed_subtasks(client, user):
    parent = create(
        client,
        user,
        "Weekly review",
        due={"date": "2026-12-07"},
        recurrence={"rule": "FREQ=WEEKLY"},
    )
    done = create(client, user, "Inbox zero", parent_id=parent["id"])
    create(client, user, "Plan", parent_id=parent["id"])
    complete(client, user, done["id"])
    assert counts(client, user, parent) == {"total": 2, "completed": 1}
    rolled = complete(client, user, parent["id"])
    assert rolled["due"]["date"] > "2026-12-07" and rolled["completed"] is False
    assert read(client, user, done)["completed"] is False
    assert counts(client, user, parent) == {"total": 2, "completed": 0}
    titles = [entry["title"] for entry in history(client, user)]
    assert sorted(titles) == ["Inbox zero", "Weekly review"]  # the subtask's completion kept
