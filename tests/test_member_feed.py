"""A member's change feed: one cursor brings their own changes and those of every list shared
with them; a join brings the list and its live tasks, an end (removed, left, list deleted,
owner deleted) each of them removed with the reason and nothing more; an empty poll reads once
per space."""

import json
import random
import threading
import uuid

import pytest
from sqlalchemy import insert

from tests.conftest import PASSWORD
from tests.test_live_routes import events_in, ticket_of
from tests.test_sharing import join
from tests.threads import at_once
from todo.columns import utcnow
from todo.extensions import db
from todo.sharing.models import memberships


class Follower:
    """A client of one user's feed: applies every page to what it holds."""

    def __init__(self, client, user, limit=500):
        self.client, self.user, self.limit = client, user, limit
        self.cursor, self.tasks, self.lists, self.reasons = None, {}, {}, {}

    def sync(self) -> list[dict]:
        pages = []
        while True:
            query = {"limit": self.limit, **({"since": self.cursor} if self.cursor else {})}
            answer = self.client.get(
                f"/api/{self.user['user_id']}/changes",
                query_string=query,
                headers=self.user["headers"],
            )
            assert answer.status_code == 200, answer.get_data(as_text=True)
            page = answer.get_json()
            pages.append(page)
            for held, rows, gone in (
                (self.tasks, page["tasks"], page["deleted"]),
                (self.lists, page["lists"], page["deleted_lists"]),
            ):
                held.update({row["id"]: row for row in rows})
                for row in gone:
                    held.pop(row["id"], None)
                    self.reasons[row["id"]] = row["reason"]
            self.cursor = page["next"]
            if not page["has_more"]:
                return pages


def rows_of(pages, name):
    return [row for page in pages for row in page[name]]


@pytest.fixture
def shared(client, owner):
    """The owner's list with two live tasks and one in the trash, and a private list."""
    base = f"/api/{owner['user_id']}"
    made = {}
    for name in ("Shared", "Private"):
        answer = client.post(f"{base}/lists", json={"name": name}, headers=owner["headers"])
        made[name] = answer.get_json()["id"]
    for title, list_id in (("Milk", "Shared"), ("Eggs", "Shared"), ("Old", "Shared")):
        body = {"title": title, "list_id": made[list_id]}
        made[title] = client.post(f"{base}/tasks", json=body, headers=owner["headers"]).get_json()
    trashed = client.delete(f"{base}/tasks/{made['Old']['id']}", headers=owner["headers"])
    assert trashed.status_code == 204
    made["Diary"] = client.post(
        f"{base}/tasks",
        json={"title": "Diary", "list_id": made["Private"]},
        headers=owner["headers"],
    ).get_json()
    return made


def owner_url(owner, path=""):
    return f"/api/{owner['user_id']}{path}"


def test_a_join_brings_the_list_and_its_live_tasks(client, owner, member, shared):
    follower = Follower(client, member)
    follower.sync()
    assert follower.tasks == {} and follower.lists == {}
    join(client, owner, member, shared["Shared"], "viewer")
    follower.sync()
    assert sorted(task["title"] for task in follower.tasks.values()) == ["Eggs", "Milk"]
    [listed] = follower.lists.values()
    assert (listed["id"], listed["role"], listed["owner_id"]) == (
        shared["Shared"],
        "viewer",
        owner["user_id"],
    )
    read = client.get(owner_url(owner, f"/tasks/{shared['Milk']['id']}"), headers=member["headers"])
    assert follower.tasks[shared["Milk"]["id"]] == read.get_json()


def test_a_first_sync_brings_the_shared_lists_with_ones_own(client, owner, member, shared):
    join(client, owner, member, shared["Shared"])
    own = client.post(
        f"/api/{member['user_id']}/tasks", json={"title": "Mine"}, headers=member["headers"]
    )
    assert own.status_code == 201
    follower = Follower(client, member, limit=1)  # a page a row: every boundary crossed
    follower.sync()
    assert sorted(task["title"] for task in follower.tasks.values()) == ["Eggs", "Milk", "Mine"]
    assert list(follower.lists) == [shared["Shared"]]


def test_the_owners_changes_to_the_shared_list_reach_the_member_and_no_other(
    client, owner, member, shared
):
    join(client, owner, member, shared["Shared"])
    follower = Follower(client, member)
    follower.sync()
    auth = owner["headers"]
    patched = client.patch(
        owner_url(owner, f"/tasks/{shared['Milk']['id']}"), json={"title": "Oat milk"}, headers=auth
    )
    assert patched.status_code == 200
    client.patch(
        owner_url(owner, f"/tasks/{shared['Diary']['id']}"), json={"title": "x"}, headers=auth
    )
    client.post(owner_url(owner, "/tasks"), json={"title": "Inbox"}, headers=auth)
    client.patch(owner_url(owner, f"/lists/{shared['Private']}"), json={"name": "P"}, headers=auth)
    pages = follower.sync()
    assert [task["title"] for task in rows_of(pages, "tasks")] == ["Oat milk"]
    assert rows_of(pages, "lists") == rows_of(pages, "deleted") == []
    assert follower.tasks[shared["Milk"]["id"]] == patched.get_json()


def test_an_empty_poll_reads_once_per_space(client, make_user, member, sent_statements):
    for each in range(10):
        sharer = make_user(f"sharer{each}@example.com")
        made = client.post(
            owner_url(sharer, "/lists"), json={"name": "L"}, headers=sharer["headers"]
        )
        join(client, sharer, member, made.get_json()["id"])
    follower = Follower(client, member)
    follower.sync()
    assert len(follower.lists) == 10
    sent_statements.clear()
    assert follower.sync()[0]["tasks"] == []
    assert len(sent_statements) == 11, sent_statements  # the member's number, each owner's


@pytest.mark.parametrize("reason", ["removed", "left", "list_deleted", "owner_deleted"])
def test_an_end_removes_the_list_and_its_tasks_with_the_reason_then_nothing(
    client, owner, member, shared, reason
):
    join(client, owner, member, shared["Shared"])
    follower = Follower(client, member)
    follower.sync()
    held = set(follower.tasks)
    assert len(held) == 2
    # A task that left the list before the end, which the member has not synced since.
    moved = client.patch(
        owner_url(owner, f"/tasks/{shared['Eggs']['id']}"),
        json={"list_id": shared["Private"]},
        headers=owner["headers"],
    )
    assert moved.status_code == 200
    list_url = owner_url(owner, f"/lists/{shared['Shared']}")
    if reason == "removed":
        gone = client.delete(f"{list_url}/members/{member['user_id']}", headers=owner["headers"])
    elif reason == "left":
        gone = client.delete(
            f"/api/{member['user_id']}/memberships/{owner['user_id']}/{shared['Shared']}",
            headers=member["headers"],
        )
    elif reason == "list_deleted":
        gone = client.delete(f"{list_url}?purge=true", headers=owner["headers"])
    else:
        gone = client.delete("/api/auth/me", json={"password": PASSWORD}, headers=owner["headers"])
    assert gone.status_code == 204
    pages = follower.sync()
    assert follower.tasks == {} and follower.lists == {}
    removed = rows_of(pages, "deleted") + rows_of(pages, "deleted_lists")
    assert {row["id"] for row in removed} >= held | {shared["Shared"]}
    assert {row["reason"] for row in removed} <= {reason, "moved"}
    assert {row["reason"] for row in rows_of(pages, "deleted_lists")} == {reason}
    if reason in ("removed", "left"):
        client.patch(
            owner_url(owner, f"/tasks/{shared['Milk']['id']}"),
            json={"title": "Later"},
            headers=owner["headers"],
        )
        client.patch(list_url, json={"name": "Renamed"}, headers=owner["headers"])
    later = follower.sync()
    assert all(not page[name] for page in later for name in ("tasks", "deleted", "lists"))


def test_a_task_moved_out_of_the_shared_list_is_removed_and_one_moved_in_appears(
    client, owner, member, shared
):
    join(client, owner, member, shared["Shared"])
    follower = Follower(client, member)
    follower.sync()
    auth = owner["headers"]
    out = client.patch(
        owner_url(owner, f"/tasks/{shared['Milk']['id']}"), json={"list_id": None}, headers=auth
    )
    assert out.status_code == 200
    into = client.patch(
        owner_url(owner, f"/tasks/{shared['Diary']['id']}"),
        json={"list_id": shared["Shared"]},
        headers=auth,
    )
    assert into.status_code == 200
    pages = follower.sync()
    assert [row["id"] for row in rows_of(pages, "deleted")] == [shared["Milk"]["id"]]
    assert rows_of(pages, "deleted")[0]["reason"] == "moved"
    assert sorted(task["title"] for task in follower.tasks.values()) == ["Diary", "Eggs"]
    # Out and back in between two syncs: the task as it is now, not removed.
    for list_id in (shared["Private"], shared["Shared"]):
        client.patch(
            owner_url(owner, f"/tasks/{shared['Eggs']['id']}"),
            json={"list_id": list_id},
            headers=auth,
        )
    follower.sync()
    assert sorted(task["title"] for task in follower.tasks.values()) == ["Diary", "Eggs"]


def test_an_import_moving_a_shared_task_under_a_new_task_removes_it_for_the_member(
    client, owner, member, shared
):
    """An import takes its change's number before writing its new tasks; a task it then moves
    under one of them, out of a shared list, leaves it in that change all the same."""
    join(client, owner, member, shared["Shared"])
    follower = Follower(client, member)
    follower.sync()
    pack = uuid.uuid4()
    milk = shared["Milk"]["id"]
    body = f"id,title,parent_id\r\n{milk},Milk,{pack}\r\n{pack},Pack,\r\n".encode()
    answer = client.post(
        owner_url(owner, "/imports"),
        data=body,
        content_type="text/csv",
        query_string={"list_id": shared["Private"]},
        headers=owner["headers"],
    )
    assert answer.status_code == 200, answer.get_json()
    moved = client.get(owner_url(owner, f"/tasks/{milk}"), headers=owner["headers"]).get_json()
    assert moved["list_id"] == shared["Private"]
    pages = follower.sync()
    assert [(row["id"], row["reason"]) for row in rows_of(pages, "deleted")] == [(milk, "moved")]
    assert sorted(task["title"] for task in follower.tasks.values()) == ["Eggs"]


def test_a_batch_that_moves_and_purges_a_shared_task_removes_it_once(client, owner, member, shared):
    join(client, owner, member, shared["Shared"])
    follower = Follower(client, member)
    follower.sync()
    milk = shared["Milk"]["id"]
    operations = [
        {"op": "patch", "id": milk, "changes": {"list_id": shared["Private"]}},
        {"op": "delete", "id": milk, "purge": True},
    ]
    ran = client.post(
        owner_url(owner, "/batch"), json={"operations": operations}, headers=owner["headers"]
    )
    assert ran.status_code == 200, ran.get_data(as_text=True)
    pages = follower.sync()
    assert [row["id"] for row in rows_of(pages, "deleted")] == [milk]
    assert milk not in follower.tasks


def test_trashing_purging_and_restoring_in_a_shared_list_reach_the_member(
    client, owner, member, shared
):
    join(client, owner, member, shared["Shared"])
    follower = Follower(client, member)
    follower.sync()
    auth, milk = owner["headers"], shared["Milk"]["id"]
    client.delete(owner_url(owner, f"/tasks/{milk}?purge=true"), headers=auth)
    pages = follower.sync()
    assert [(row["id"], row["purged"]) for row in rows_of(pages, "deleted")] == [(milk, True)]
    list_url = owner_url(owner, f"/lists/{shared['Shared']}")
    assert client.delete(list_url, headers=auth).status_code == 204
    pages = follower.sync()
    assert follower.tasks == {} and follower.lists == {}
    assert [row["purged"] for row in rows_of(pages, "deleted_lists")] == [False]
    assert client.post(f"{list_url}/restore", headers=auth).status_code == 200
    follower.sync()
    assert [task["title"] for task in follower.tasks.values()] == ["Eggs"]
    assert list(follower.lists) == [shared["Shared"]]


def test_a_role_change_reaches_the_members_list(client, owner, member, shared):
    join(client, owner, member, shared["Shared"])
    follower = Follower(client, member)
    follower.sync()
    url = owner_url(owner, f"/lists/{shared['Shared']}/members/{member['user_id']}")
    assert client.patch(url, json={"role": "viewer"}, headers=owner["headers"]).status_code == 200
    follower.sync()
    assert follower.lists[shared["Shared"]]["role"] == "viewer"


def test_a_101st_shared_list_is_refused(app, client, owner, member, shared):
    with app.app_context():
        now = utcnow()
        rows = [
            {"user_id": uuid.UUID(member["user_id"]), "owner_id": uuid.uuid4()}
            | {"list_id": uuid.uuid4(), "role": "viewer", "created_at": now}
            for _ in range(100)
        ]
        db.session.execute(insert(memberships), rows)
        db.session.commit()
    invited = client.post(
        owner_url(owner, f"/lists/{shared['Shared']}/invitations"),
        json={"email": member["email"], "role": "editor"},
        headers=owner["headers"],
    )
    assert invited.status_code == 201
    accepted = client.post(
        f"/api/{member['user_id']}/invitations/{invited.get_json()['id']}/accept",
        headers=member["headers"],
    )
    assert accepted.status_code == 422
    assert accepted.get_json()["type"] == "/problems/too-many-shared-lists"


def readable(client, user) -> tuple[dict, dict]:
    """Every task and list `user` can read through the API: their own, and each shared
    list's at its owner's URL."""
    me, auth = user["user_id"], user["headers"]
    lists = {row["id"]: row for row in client.get(f"/api/{me}/lists", headers=auth).get_json()}
    answer = client.get(f"/api/{me}/tasks", query_string={"limit": 500}, headers=auth)
    tasks = {row["id"]: row for row in answer.get_json()}
    for listed in lists.values():
        if listed["owner_id"] != me:
            query = {"limit": 500, "list_id": listed["id"]}
            url = f"/api/{listed['owner_id']}/tasks"
            tasks.update(
                {
                    row["id"]: row
                    for row in client.get(url, query_string=query, headers=auth).get_json()
                }
            )
    return tasks, lists


def test_followers_of_three_feeds_end_equal_to_what_each_reads_under_8_writers(
    app, client, make_user, database_kind
):
    """3 users, 2 shared lists (Ann's with Bob and Cy, Bob's with Ann and Cy as a viewer),
    8 threads writing across all of them while each user's follower syncs."""
    if database_kind == "sqlite":
        pytest.skip("SQLite runs one writer at a time: nothing interleaves")
    ann, bob, cy = (make_user(f"{name}@example.com") for name in ("ann", "bob", "cy"))
    made = {}
    for person in (ann, bob, cy):
        for name in ("Shared", "Own"):
            answer = client.post(
                owner_url(person, "/lists"), json={"name": name}, headers=person["headers"]
            )
            made[person["user_id"], name] = answer.get_json()["id"]
    a_shared, b_shared = made[ann["user_id"], "Shared"], made[bob["user_id"], "Shared"]
    join(client, ann, bob, a_shared)
    join(client, ann, cy, a_shared)
    join(client, bob, ann, b_shared)
    join(client, bob, cy, b_shared, "viewer")
    # Who may write where: (writer, space owner, lists the writer may put tasks in there).
    places = [
        (ann, ann, [a_shared, made[ann["user_id"], "Own"], None]),
        (bob, bob, [b_shared, made[bob["user_id"], "Own"], None]),
        (cy, cy, [made[cy["user_id"], "Own"], None]),
        (bob, ann, [a_shared]),
        (cy, ann, [a_shared]),
        (ann, bob, [b_shared]),
    ]
    followers = [Follower(app.test_client(), person, limit=7) for person in (ann, bob, cy)]
    done = threading.Event()

    def follow():
        while not done.is_set():
            for follower in followers:
                follower.sync()

    seeds = iter(range(8))

    def write(one):
        rng = random.Random(next(seeds))
        made_here = []
        for _ in range(25):
            writer, space, list_ids = rng.choice(places)
            base, auth = owner_url(space, "/tasks"), writer["headers"]
            mine = [task for task in made_here if task[0] is space and task[2] is writer]
            roll = rng.random()
            if not mine or roll < 0.4:
                body = {"title": f"t{rng.random():.6f}", "list_id": rng.choice(list_ids)}
                answer = one.post(base, json=body, headers=auth)
                assert answer.status_code == 201, answer.get_data(as_text=True)
                made_here.append((space, answer.get_json()["id"], writer))
                continue
            _, task_id, _ = rng.choice(mine)
            if roll < 0.6:
                one.patch(f"{base}/{task_id}", json={"list_id": rng.choice(list_ids)}, headers=auth)
            elif roll < 0.8:
                one.patch(f"{base}/{task_id}/complete", headers=auth)
            elif roll < 0.9:
                one.delete(f"{base}/{task_id}", headers=auth)
            else:
                one.delete(f"{base}/{task_id}?purge=true", headers=auth)

    follower_thread = threading.Thread(target=follow)
    follower_thread.start()
    try:
        at_once(app, 8, write)
    finally:
        done.set()
        follower_thread.join()
    for follower in followers:
        follower.sync()
        tasks, lists = readable(client, follower.user)
        assert follower.tasks == tasks
        # A list's counts are as of its own last change (docs/sync.md): the rest is equal.
        assert uncounted(follower.lists) == uncounted(lists)


def uncounted(lists: dict) -> dict:
    counts = ("task_count", "completed_count")
    return {key: {k: v for k, v in row.items() if k not in counts} for key, row in lists.items()}


def test_without_the_serving_worker_a_members_stream_ends_after_the_removal(
    client, owner, member, shared
):
    """The stream sends the page that takes the list away, then its end (access_lost) and no
    `not_held`: nothing follows a lost access."""
    join(client, owner, member, shared["Shared"])
    follower = Follower(client, member)
    follower.sync()
    url = owner_url(owner, f"/lists/{shared['Shared']}/members/{member['user_id']}")
    assert client.delete(url, headers=owner["headers"]).status_code == 204
    ticket = ticket_of(client, member)
    body = client.get(ticket["stream"], headers={"Last-Event-ID": follower.cursor})
    page, ended = events_in(body.get_data(as_text=True))
    removed = json.loads(page["data"])
    assert [gone["reason"] for gone in removed["deleted_lists"]] == ["removed"]
    assert ended["event"] == "end" and json.loads(ended["data"])["reason"] == "access_lost"
