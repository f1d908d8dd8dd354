"""Labels: carried by tasks as names, one label per identity (NFKC + casefold) shown as first
spelled; the all-of filter; GET /labels with its ETag; renames, merges and deletions that
rewrite every task in one statement under one change. A task never carries another user's
label, by any route."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import assert_problem
from tests.test_batch import assert_batch_failed
from tests.test_due import create, listed, patch, tasks_url
from tests.test_feed import poll
from tests.test_lists import assert_problem_type
from todo.extensions import db
from todo.labels.models import labels, task_labels
from todo.labels.store import MOST_LABELS
from todo.tasks.models import tasks


def labels_url(user, name=None) -> str:
    url = f"/api/{user['user_id']}/labels"
    return url if name is None else f"{url}/{name}"


def label_counts(client, user) -> dict[str, int]:
    answer = client.get(labels_url(user), headers=user["headers"])
    assert answer.status_code == 200, answer.get_json()
    return {label["name"]: label["task_count"] for label in answer.get_json()}


def titles(client, user, **query) -> list[str]:
    return sorted(task["title"] for task in listed(client, user, **query))


def test_a_label_is_one_per_identity_shown_as_first_spelled(client, user):
    first = create(
        client, user, "a", labels=["  Home ", "errands", "HOME", "\uff48\uff4f\uff4d\uff45"]
    )
    assert first["labels"] == ["Home", "errands"]
    second = create(client, user, "b", labels=["home", "Straße"])
    assert second["labels"] == ["Home", "Straße"]
    third = create(client, user, "c", labels=["STRASSE"])
    assert third["labels"] == ["Straße"]
    assert create(client, user, "d")["labels"] == []
    assert label_counts(client, user) == {"errands": 1, "Home": 2, "Straße": 2}


def test_labels_are_replaced_whole_by_patch_and_put_and_kept_when_not_sent(client, user):
    task = create(client, user, "a", labels=["home", "work"])
    url = f"{tasks_url(user)}/{task['id']}"
    untouched = patch(client, user, task["id"], {"title": "b"}).get_json()
    assert untouched["labels"] == ["home", "work"]
    answer = patch(client, user, task["id"], {"labels": ["work", "garden"]})
    assert answer.status_code == 200 and answer.get_json()["labels"] == ["work", "garden"]
    assert answer.get_json()["version"] == untouched["version"] + 1
    same = patch(client, user, task["id"], {"labels": ["work", "garden"]}).get_json()
    assert same["version"] == answer.get_json()["version"]  # nothing changed
    put = client.put(url, json={"title": "c", "labels": ["home"]}, headers=user["headers"])
    assert put.get_json()["labels"] == ["home"]
    kept = client.put(url, json={"title": "d"}, headers=user["headers"])
    assert kept.get_json()["labels"] == ["home"]
    assert patch(client, user, task["id"], {"labels": []}).get_json()["labels"] == []
    assert label_counts(client, user) == {}
    assert client.get(url, headers=user["headers"]).get_json()["labels"] == []


@pytest.mark.parametrize(
    "sent",
    [
        [f"l{n}" for n in range(21)],
        [""],
        ["   "],
        ["x" * 65],
        ["tab\there"],
        ["line\nbreak"],
        [7],
        [None],
        ["\ufdfa" * 64],  # 64 characters, 1,152 once normalized
        "home",
        None,
    ],
)
def test_bad_labels_are_422_and_nothing_is_written(client, user, sent):
    answer = client.post(
        tasks_url(user), json={"title": "t", "labels": sent}, headers=user["headers"]
    )
    assert answer.status_code == 422
    assert all(key.startswith("labels") for key in answer.get_json()["errors"])
    assert listed(client, user) == [] and label_counts(client, user) == {}


def test_twenty_labels_of_64_characters_are_fine(client, user):
    sent = [f"{n:02d}" + "x" * 62 for n in range(20)]
    assert create(client, user, "t", labels=sent)["labels"] == sent


def test_the_filter_keeps_tasks_carrying_every_label_asked_whatever_their_case(client, user):
    create(client, user, "both", labels=["Home", "Errands"])
    create(client, user, "home", labels=["home"])
    create(client, user, "none")
    assert titles(client, user, label="HOME") == ["both", "home"]
    assert titles(client, user, label=["home", "errands"]) == ["both"]
    assert titles(client, user, label=["home", "home"]) == ["both", "home"]
    assert titles(client, user, label="nowhere") == []
    assert titles(client, user, label=["home"], q="bo") == ["both"]
    bad = client.get(tasks_url(user), query_string={"label": ""}, headers=user["headers"])
    assert_problem(bad, 400)


def test_the_labels_list_counts_live_tasks_and_answers_304_until_a_task_changes(client, user):
    kept = create(client, user, "kept", labels=["b", "A"])
    trashed = create(client, user, "trashed", labels=["a", "gone"])
    url = f"{tasks_url(user)}/{trashed['id']}"
    assert client.delete(url, headers=user["headers"]).status_code == 204
    first = client.get(labels_url(user), headers=user["headers"])
    assert first.get_json() == [{"name": "A", "task_count": 1}, {"name": "b", "task_count": 1}]
    tag = first.headers["ETag"]
    assert tag.startswith('W/"labels-')
    conditional = {**user["headers"], "If-None-Match": tag}
    again = client.get(labels_url(user), headers=conditional)
    assert (again.status_code, again.data) == (304, b"")
    assert client.post(f"{url}/restore", headers=user["headers"]).status_code == 200
    moved = client.get(labels_url(user), headers=conditional)
    assert moved.status_code == 200 and moved.headers["ETag"] != tag
    assert {label["name"]: label["task_count"] for label in moved.get_json()} == {
        "A": 2,
        "b": 1,
        "gone": 1,
    }
    assert kept["labels"] == ["b", "A"]


def test_another_users_labels_are_403(client, user, other_user):
    create(client, other_user, "theirs", labels=["secret"])
    assert_problem(client.get(labels_url(other_user), headers=user["headers"]), 403)
    assert_problem(
        client.patch(labels_url(other_user, "secret"), json={"name": "x"}, headers=user["headers"]),
        403,
    )
    assert_problem(client.delete(labels_url(other_user, "secret"), headers=user["headers"]), 403)
    assert_problem(client.delete(labels_url(user, "secret"), headers=user["headers"]), 404)
    assert label_counts(client, other_user) == {"secret": 1}


def test_a_rename_rewrites_every_task_in_one_change(client, user):
    one = create(client, user, "one", labels=["errands", "Home"])
    two = create(client, user, "two", labels=["home"])
    other = create(client, user, "other", labels=["work"])
    since = poll(client, user)["next"]
    answer = client.patch(
        labels_url(user, "HOME"), json={"name": " House "}, headers=user["headers"]
    )
    assert answer.status_code == 200
    assert answer.get_json() == {"name": "House", "task_count": 2}
    page = poll(client, user, since)
    changed = {task["title"]: task for task in page["tasks"]}
    assert set(changed) == {"one", "two"}
    assert changed["one"]["labels"] == ["errands", "House"]
    assert changed["two"]["labels"] == ["House"]
    assert changed["one"]["version"] == one["version"] + 1
    assert changed["two"]["version"] == two["version"] + 1
    assert poll(client, user, page["next"])["tasks"] == []  # one change: one page
    assert label_counts(client, user) == {"errands": 1, "House": 2, "work": 1}
    assert titles(client, user, label="house") == ["one", "two"]
    assert titles(client, user, label="home") == []
    assert create(client, user, "new", labels=["HOUSE"])["labels"] == ["House"]
    assert other["labels"] == ["work"]
    again = patch(client, user, one["id"], {"labels": ["errands", "House"]}).get_json()
    assert again["version"] == changed["one"]["version"]  # the rewritten labels, unchanged


def test_a_rename_onto_another_label_merges_them_once_per_task(client, user):
    create(client, user, "both", labels=["chores", "x", "Home"])
    create(client, user, "chores", labels=["Chores"])
    create(client, user, "home", labels=["home"])
    answer = client.patch(
        labels_url(user, "chores"), json={"name": "HOME"}, headers=user["headers"]
    )
    assert answer.get_json() == {"name": "HOME", "task_count": 3}
    found = {task["title"]: task["labels"] for task in listed(client, user)}
    assert found == {"both": ["HOME", "x"], "chores": ["HOME"], "home": ["HOME"]}
    assert label_counts(client, user) == {"HOME": 3, "x": 1}
    assert titles(client, user, label="home") == ["both", "chores", "home"]


def test_renaming_only_the_spelling_keeps_the_label(client, user):
    create(client, user, "t", labels=["home"])
    answer = client.patch(labels_url(user, "home"), json={"name": "Home"}, headers=user["headers"])
    assert answer.get_json() == {"name": "Home", "task_count": 1}
    assert listed(client, user)[0]["labels"] == ["Home"]


def test_a_deleted_label_leaves_every_task_and_its_spelling_is_forgotten(client, user):
    create(client, user, "a", labels=["x", "Home", "y"])
    create(client, user, "b", labels=["home"])
    since = poll(client, user)["next"]
    assert client.delete(labels_url(user, "HOME"), headers=user["headers"]).status_code == 204
    found = {task["title"]: task["labels"] for task in listed(client, user)}
    assert found == {"a": ["x", "y"], "b": []}
    assert {task["title"] for task in poll(client, user, since)["tasks"]} == {"a", "b"}
    assert_problem(client.delete(labels_url(user, "home"), headers=user["headers"]), 404)
    assert create(client, user, "c", labels=["HOME"])["labels"] == ["HOME"]


def test_renaming_an_unknown_label_is_404_and_a_bad_name_422(client, user):
    create(client, user, "t", labels=["home"])
    unknown = client.patch(labels_url(user, "nope"), json={"name": "x"}, headers=user["headers"])
    assert_problem(unknown, 404)
    bad = client.patch(labels_url(user, "home"), json={"name": "x" * 65}, headers=user["headers"])
    assert bad.status_code == 422
    assert label_counts(client, user) == {"home": 1}


@pytest.mark.parametrize("path", ["%00", "x" * 300, "%20home", "tab%09"])
def test_a_path_that_can_name_no_label_is_404(client, user, path):
    create(client, user, "t", labels=["home"])
    assert_problem(client.delete(labels_url(user, path), headers=user["headers"]), 404)
    renamed = client.patch(labels_url(user, path), json={"name": "x"}, headers=user["headers"])
    assert_problem(renamed, 404)
    assert label_counts(client, user) == {"home": 1}


def test_a_label_with_a_slash_is_renamed_by_its_path(client, user):
    create(client, user, "t", labels=["home/garden"])
    answer = client.patch(
        labels_url(user, "home/garden"), json={"name": "garden"}, headers=user["headers"]
    )
    assert answer.get_json() == {"name": "garden", "task_count": 1}


def test_a_purged_task_leaves_its_labels(app, client, user):
    task = create(client, user, "t", labels=["home"])
    url = f"{tasks_url(user)}/{task['id']}"
    purged = client.delete(url, query_string={"purge": "true"}, headers=user["headers"])
    assert purged.status_code == 204
    with app.app_context():
        assert db.session.execute(select(task_labels)).all() == []
    assert label_counts(client, user) == {}


def test_a_user_has_at_most_1000_labels(app, client, user):
    """40,000 labels were taken, and GET …/labels answered 3.5 MB."""
    owner, now = uuid.UUID(user["user_id"]), datetime.now(UTC)
    with app.app_context():
        db.session.execute(
            insert(labels),
            [
                {"user_id": owner, "id": uuid.uuid4(), "key": f"l{n}", "name": f"l{n}"}
                | {"created_at": now}
                for n in range(MOST_LABELS - 1)
            ],
        )
        db.session.commit()
    last = create(client, user, "last", labels=["l0", "one more"])
    refused = client.post(
        tasks_url(user), json={"title": "x", "labels": ["l1", "two more"]}, headers=user["headers"]
    )
    assert assert_problem_type(refused, 422) == "/problems/too-many-labels"
    batch = client.post(
        f"/api/{user['user_id']}/batch",
        json={"operations": [{"op": "patch", "id": last["id"], "changes": {"labels": ["new"]}}]},
        headers=user["headers"],
    )
    assert_batch_failed(batch, 422, 0)
    assert titles(client, user) == ["last"]
    assert create(client, user, "known", labels=["L2", "ONE MORE"])["labels"] == ["l2", "one more"]
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(labels))
    assert count == MOST_LABELS


def test_a_rename_over_5000_tasks_is_one_statement_and_older_if_match_gets_412(
    app, client, user, sent_statements
):
    owner = uuid.UUID(user["user_id"])
    label_id, now = uuid.uuid4(), datetime.now(UTC)
    task_ids = [uuid.uuid4() for _ in range(5000)]
    with app.app_context():
        db.session.execute(
            insert(labels).values(
                user_id=owner, id=label_id, key="home", name="home", created_at=now
            )
        )
        db.session.execute(
            insert(tasks),
            [
                {
                    "user_id": owner,
                    "id": task_id,
                    "title": f"t{n}",
                    "created_by": owner,
                    "updated_by": owner,
                    "created_at": now,
                    "updated_at": now,
                    "labels": ["home"],
                }
                for n, task_id in enumerate(task_ids)
            ],
        )
        db.session.execute(
            insert(task_labels),
            [{"user_id": owner, "task_id": task_id, "label_id": label_id} for task_id in task_ids],
        )
        db.session.commit()
    url = f"{tasks_url(user)}/{task_ids[0]}"
    etag = client.get(url, headers=user["headers"]).headers["ETag"]
    since = poll(client, user)["next"]
    sent_statements.clear()
    answer = client.patch(labels_url(user, "home"), json={"name": "house"}, headers=user["headers"])
    assert answer.get_json() == {"name": "house", "task_count": 5000}
    assert sum(1 for statement in sent_statements if rewrites_labels(statement)) == 1
    stale = client.patch(url, json={"title": "x"}, headers={**user["headers"], "If-Match": etag})
    assert_problem(stale, 412)
    changed = []
    while True:
        page = poll(client, user, since, limit=1000)
        if not page["tasks"]:
            break
        changed, since = changed + page["tasks"], page["next"]
    assert len(changed) == 5000 and {task["labels"][0] for task in changed} == {"house"}
    with app.app_context():
        numbers = db.session.scalars(
            select(tasks.c.change_number).where(tasks.c.user_id == owner).distinct()
        ).all()
    assert len(numbers) == 1


def rewrites_labels(statement: str) -> bool:
    """An UPDATE of the tasks that sets their labels."""
    changed = statement.split(" WHERE ")[0]
    return "UPDATE tasks SET" in changed and "labels=" in changed


def test_labels_go_through_the_batch_all_or_nothing(client, user):
    batch = f"/api/{user['user_id']}/batch"
    task = create(client, user, "t")
    operations = [
        {"op": "create", "task": {"title": "new", "labels": ["Home"]}},
        {"op": "patch", "id": task["id"], "changes": {"labels": ["home", "work"]}},
    ]
    answer = client.post(batch, json={"operations": operations}, headers=user["headers"])
    assert answer.status_code == 200, answer.get_json()
    assert {t["title"]: t["labels"] for t in listed(client, user)} == {
        "new": ["Home"],
        "t": ["Home", "work"],
    }
    failing = [
        {"op": "patch", "id": task["id"], "changes": {"labels": ["garden"]}},
        {"op": "patch", "id": str(uuid.uuid4()), "changes": {"title": "missing"}},
    ]
    answer = client.post(
        batch, json={"operations": failing, "atomic": True}, headers=user["headers"]
    )
    assert_batch_failed(answer, 404, 1)
    assert label_counts(client, user) == {"Home": 2, "work": 1}


def test_a_task_never_carries_another_users_label(app, client, user, other_user):
    """Names resolve in the caller's own labels by every route; the database refuses a link
    to another user's label even when a statement tries."""
    theirs = create(client, other_user, "theirs", labels=["home"])
    mine = create(client, user, "mine", labels=["HOME"])
    url = f"{tasks_url(user)}/{mine['id']}"
    assert mine["labels"] == ["HOME"]  # not their spelling: another label
    patch(client, user, mine["id"], {"labels": ["home", "x"]})
    client.put(url, json={"title": "m", "labels": ["home"]}, headers=user["headers"])
    batch = f"/api/{user['user_id']}/batch"
    operations = [{"op": "create", "task": {"title": "b", "labels": ["home"]}}]
    client.post(batch, json={"operations": operations}, headers=user["headers"])
    assert label_counts(client, other_user) == {"home": 1}
    assert label_counts(client, user) == {"HOME": 2}
    with app.app_context():
        pairs = db.session.execute(
            select(task_labels.c.user_id, labels.c.user_id).join(
                labels, labels.c.id == task_labels.c.label_id
            )
        ).all()
        assert pairs and all(mine_ == owner for mine_, owner in pairs)
        their_label = db.session.scalar(
            select(labels.c.id).where(labels.c.user_id == uuid.UUID(other_user["user_id"]))
        )
        with pytest.raises(IntegrityError):
            db.session.execute(
                insert(task_labels).values(
                    user_id=uuid.UUID(user["user_id"]),
                    task_id=uuid.UUID(mine["id"]),
                    label_id=their_label,
                )
            )
            db.session.commit()
        db.session.rollback()
    assert theirs["labels"] == ["home"]
