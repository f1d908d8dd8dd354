"""The change feed (GET /api/<user_id>/changes): a first sync, incremental syncs with
deletions, pages of at most `limit` rows (a large change spans pages), cursors bound to their
user and their age, and a follower that keeps up with writers from many threads and ends with
exactly what the database holds."""

import random
import threading
import time
import uuid
from datetime import timedelta

from tests.conftest import assert_problem
from tests.threads import at_once
from todo import cursors
from todo.columns import utcnow


def changes_url(user) -> str:
    return f"/api/{user['user_id']}/changes"


def poll(client, user, since=None, limit=None):
    query = {key: value for key, value in (("since", since), ("limit", limit)) if value}
    answer = client.get(changes_url(user), query_string=query, headers=user["headers"])
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


class Replica:
    """What a client holds after applying the feed: tasks by id."""

    def __init__(self):
        self.tasks, self.cursor, self.pages = {}, None, 0

    def apply(self, page) -> None:
        ids = [task["id"] for task in page["tasks"]] + [gone["id"] for gone in page["deleted"]]
        assert len(ids) == len(set(ids)), "a task twice in one page"
        for task in page["tasks"]:
            self.tasks[task["id"]] = task
        for gone in page["deleted"]:
            self.tasks.pop(gone["id"], None)
        self.cursor, self.pages = page["next"], self.pages + 1

    def sync(self, client, user, limit=None) -> None:
        while True:
            page = poll(client, user, self.cursor, limit)
            self.apply(page)
            if not page["has_more"]:
                return


def live_tasks(client, user) -> dict:
    answer = client.get(f"/api/{user['user_id']}/tasks?limit=500", headers=user["headers"])
    return {task["id"]: task for task in answer.get_json()}


def create(client, user, title, **fields):
    answer = client.post(
        f"/api/{user['user_id']}/tasks", json={"title": title, **fields}, headers=user["headers"]
    )
    assert answer.status_code == 201
    return answer.get_json()


def test_a_first_sync_gives_every_live_task_and_nothing_deleted(client, user):
    kept = create(client, user, "kept")
    trashed = create(client, user, "trashed")
    client.delete(f"/api/{user['user_id']}/tasks/{trashed['id']}", headers=user["headers"])
    page = poll(client, user)
    assert [task["id"] for task in page["tasks"]] == [kept["id"]]
    assert page["deleted"] == [] and page["has_more"] is False
    assert page["tasks"][0] == live_tasks(client, user)[kept["id"]]


def test_an_incremental_sync_gives_changes_in_their_newest_state_and_deletions(client, user):
    tasks = f"/api/{user['user_id']}/tasks"
    changed, trashed, purged, restored = (create(client, user, f"t{n}") for n in range(4))
    cursor = poll(client, user)["next"]
    assert poll(client, user, cursor)["tasks"] == []  # nothing new
    client.patch(f"{tasks}/{changed['id']}", json={"title": "once"}, headers=user["headers"])
    client.patch(f"{tasks}/{changed['id']}", json={"title": "twice"}, headers=user["headers"])
    client.delete(f"{tasks}/{trashed['id']}", headers=user["headers"])
    client.delete(f"{tasks}/{purged['id']}?purge=true", headers=user["headers"])
    client.delete(f"{tasks}/{restored['id']}", headers=user["headers"])
    client.post(f"{tasks}/{restored['id']}/restore", headers=user["headers"])
    added = create(client, user, "new")
    page = poll(client, user, cursor)
    assert [task["id"] for task in page["tasks"]] == [changed["id"], restored["id"], added["id"]]
    assert page["tasks"][0]["title"] == "twice" and page["tasks"][0]["version"] == 3
    deleted = {gone["id"]: gone for gone in page["deleted"]}
    assert {task_id: gone["purged"] for task_id, gone in deleted.items()} == {
        trashed["id"]: False,
        purged["id"]: True,
    }
    assert all(gone["deleted_at"].endswith("Z") for gone in page["deleted"])
    assert poll(client, user, page["next"]) == {
        "tasks": [],
        "deleted": [],
        "lists": [],
        "deleted_lists": [],
        "next": poll(client, user, page["next"])["next"],
        "has_more": False,
    }


def test_pages_follow_change_order_and_hold_at_most_limit_tasks(client, user):
    """A batch is one change: its tasks share a number, come by id, and span pages."""
    singles = [create(client, user, f"single {n}") for n in range(3)]
    batch = client.post(
        f"/api/{user['user_id']}/batch",
        json={"operations": [{"op": "create", "task": {"title": f"b{n}"}} for n in range(5)]},
        headers=user["headers"],
    )
    assert batch.status_code == 200
    batched = [result["task"]["id"] for result in batch.get_json()["results"]]
    later = create(client, user, "after the batch")
    pages = []
    replica = Replica()
    while True:
        page = poll(client, user, replica.cursor, limit=2)
        replica.apply(page)
        pages.append([task["id"] for task in page["tasks"]])
        if not page["has_more"]:
            break
    ordered = [task["id"] for task in singles] + sorted(batched) + [later["id"]]
    assert [task_id for page in pages for task_id in page] == ordered
    assert [len(page) for page in pages] == [2, 2, 2, 2, 1]


def test_a_follower_stopped_mid_scan_resumes_from_its_last_cursor(client, user):
    for n in range(7):
        create(client, user, f"t{n}")
    replica = Replica()
    page = poll(client, user, limit=3)
    replica.apply(page)
    assert page["has_more"] is True
    # Meanwhile: more changes, some to tasks the follower has not seen yet.
    tasks = f"/api/{user['user_id']}/tasks"
    unseen = sorted(live_tasks(client, user))[0]
    client.patch(f"{tasks}/{unseen}", json={"title": "changed"}, headers=user["headers"])
    create(client, user, "added meanwhile")
    replica.sync(client, user, limit=3)
    assert replica.tasks == live_tasks(client, user)


def test_writers_in_eight_threads_and_a_follower_end_with_the_database(app, user):
    """200 writes (creates, changes, toggles, trash, restores, purges) from 8 threads while
    another thread follows the feed; the follower's last sync holds exactly the live tasks,
    each at its stored version."""
    tasks = f"/api/{user['user_id']}/tasks"
    done = threading.Event()
    replica = Replica()

    def follow():
        client = app.test_client()
        while not done.is_set():
            replica.sync(client, user, limit=7)
            time.sleep(0.005)

    def write(client):
        rng, mine = random.Random(threading.get_ident()), []
        for n in range(25):
            roll = rng.random()
            if not mine or roll < 0.35:
                answer = client.post(tasks, json={"title": f"w{n}"}, headers=user["headers"])
                mine.append(answer.get_json()["id"])
                continue
            url = f"{tasks}/{rng.choice(mine)}"
            if roll < 0.6:
                client.patch(url, json={"title": f"c{n}"}, headers=user["headers"])
            elif roll < 0.75:
                client.patch(f"{url}/complete", headers=user["headers"])
            elif roll < 0.88:
                client.delete(url, headers=user["headers"])
            elif roll < 0.95:
                client.post(f"{url}/restore", headers=user["headers"])
            else:
                client.delete(f"{url}?purge=true", headers=user["headers"])
        return len(mine)

    follower = threading.Thread(target=follow)
    follower.start()
    try:
        at_once(app, 8, write)
    finally:
        done.set()
        follower.join(60)
    client = app.test_client()
    replica.sync(client, user, limit=7)
    assert replica.pages > 8
    assert replica.tasks == live_tasks(client, user)


def test_an_empty_account_syncs_to_nothing(client, user):
    page = poll(client, user)
    assert (page["tasks"], page["deleted"], page["has_more"]) == ([], [], False)
    assert poll(client, user, page["next"])["tasks"] == []


def test_cursors_are_bound_to_their_user_and_not_forged(client, user, other_user):
    create(client, user, "mine")
    cursor = poll(client, user)["next"]
    for since in (
        poll(client, other_user)["next"],  # another user's
        "garbage",
        cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"),  # signature altered
        cursors.encode([user["user_id"], 0, int(utcnow().timestamp())]),  # unsigned
    ):
        answer = client.get(
            changes_url(user), query_string={"since": since}, headers=user["headers"]
        )
        assert "cursor" in assert_problem(answer, 400)["detail"]


def test_a_cursor_older_than_the_feed_retention_is_410_and_a_fresh_sync_works(app, client, user):
    create(client, user, "mine")
    issued = int((utcnow() - timedelta(days=91)).timestamp())
    key = app.config["JWT_SECRET_KEY"].encode()
    old = cursors.signed([user["user_id"], 1, issued], key)
    answer = client.get(changes_url(user), query_string={"since": old}, headers=user["headers"])
    assert answer.status_code == 410
    assert answer.content_type == "application/problem+json"
    assert answer.get_json()["type"] == "/problems/cursor-expired"
    assert len(poll(client, user)["tasks"]) == 1


def test_a_cursor_ahead_of_the_database_is_410(app, client, user):
    """A database restored to an earlier state: the client's cursor is ahead of it."""
    key = app.config["JWT_SECRET_KEY"].encode()
    ahead = cursors.signed([user["user_id"], 99, int(utcnow().timestamp())], key)
    answer = client.get(changes_url(user), query_string={"since": ahead}, headers=user["headers"])
    assert answer.status_code == 410


def test_the_feed_limit_and_access_are_checked(client, user, other_user):
    for limit in ("0", "1001", "x"):
        answer = client.get(
            changes_url(user), query_string={"limit": limit}, headers=user["headers"]
        )
        assert_problem(answer, 400)
    assert_problem(client.get(changes_url(user)), 401)
    assert_problem(client.get(changes_url(user), headers=other_user["headers"]), 403)
    assert_problem(client.get(f"/api/{uuid.uuid4()}/changes", headers=user["headers"]), 403)


def test_a_change_larger_than_the_page_spans_pages_and_comes_whole(client, user):
    """limit=1 over a batch of five: five pages of one (it was one page of five: a label
    renamed on 9,900 tasks made a page of 6 MB), the later writes of its tasks included."""
    cursor = poll(client, user)["next"]
    operations = [{"op": "create", "task": {"title": f"b{n}"}} for n in range(5)]
    batch = client.post(
        f"/api/{user['user_id']}/batch", json={"operations": operations}, headers=user["headers"]
    )
    assert batch.status_code == 200
    batched = sorted(result["task"]["id"] for result in batch.get_json()["results"])
    replica = Replica()
    replica.cursor = cursor
    first = poll(client, user, cursor, limit=1)
    replica.apply(first)
    assert [task["id"] for task in first["tasks"]] == batched[:1] and first["has_more"]
    # Between two pages, a task of the batch not read yet changes, and one already read.
    for task_id in (batched[0], batched[3]):
        answer = client.patch(
            f"/api/{user['user_id']}/tasks/{task_id}",
            json={"title": "changed"},
            headers=user["headers"],
        )
        assert answer.status_code == 200
    pages = [first]
    while pages[-1]["has_more"]:
        pages.append(poll(client, user, replica.cursor, limit=1))
        replica.apply(pages[-1])
    assert all(len(page["tasks"]) <= 1 for page in pages)
    assert replica.tasks == live_tasks(client, user)
    assert poll(client, user, replica.cursor)["tasks"] == []
