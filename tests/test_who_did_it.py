"""Who did it: every task says who created it, who last changed it and who completed it, and
whom it is assigned to (its owner, or a member of its list); an assignment ends with the
membership, as a change the owner's feed shows; the list queries filter by assignee; the
completion history says who."""

import pytest

from tests.conftest import PASSWORD, assert_problem
from tests.test_feed import poll
from tests.test_sharing import join
from tests.threads import at_once
from todo import cursors

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def home(client, owner, editor, viewer):
    """The owner's shared list Home (the editor and the viewer its members), a private list,
    and the URLs of the owner's space."""
    base = f"/api/{owner['user_id']}"
    made = {"tasks": f"{base}/tasks", "batch": f"{base}/batch", "base": base}
    for name in ("Home", "Private"):
        answer = client.post(f"{base}/lists", json={"name": name}, headers=owner["headers"])
        made[name] = answer.get_json()["id"]
    join(client, owner, editor, made["Home"], "editor")
    join(client, owner, viewer, made["Home"], "viewer")
    return made


def create(client, home, user, **fields):
    answer = client.post(home["tasks"], json={"title": "Dishes", **fields}, headers=user["headers"])
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


def who(task) -> tuple:
    return tuple(task[name] for name in ("created_by", "updated_by", "completed_by", "assignee_id"))


def ok(answer) -> dict:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def test_a_task_says_who_created_changed_and_completed_it(client, owner, editor, home):
    ann, bob = owner["user_id"], editor["user_id"]
    task = create(client, home, owner, list_id=home["Home"])
    assert who(task) == (ann, ann, None, None)
    url = f"{home['tasks']}/{task['id']}"
    assert who(ok(client.patch(url, json={"title": "Pots"}, headers=editor["headers"]))) == (
        ann,
        bob,
        None,
        None,
    )
    done = ok(client.patch(f"{url}/complete", headers=editor["headers"]))
    assert (done["completed"], who(done)) == (True, (ann, bob, bob, None))
    same = ok(client.put(url, json={"title": "Pots", "completed": True}, headers=owner["headers"]))
    assert who(same) == (ann, bob, bob, None)  # a write that changes nothing: nobody's
    reopened = ok(client.patch(f"{url}/complete", headers=owner["headers"]))
    assert (reopened["completed"], who(reopened)) == (False, (ann, ann, None, None))
    assert client.delete(url, headers=editor["headers"]).status_code == 204
    restored = ok(client.post(f"{url}/restore", headers=owner["headers"]))
    assert who(restored) == (ann, ann, None, None)
    bobs = create(client, home, editor, list_id=home["Home"], completed=True)
    assert who(bobs) == (bob, bob, bob, None)
    assert who(create(client, home, owner)) == (ann, ann, None, None)  # one's own tasks too


def test_a_shared_task_reads_byte_for_byte_the_same_for_owner_and_member(
    client, owner, editor, home
):
    task = create(client, home, editor, list_id=home["Home"], assignee_id=editor["user_id"])
    url = f"{home['tasks']}/{task['id']}"
    ok(client.patch(f"{url}/complete", headers=editor["headers"]))
    answers = [client.get(url, headers=user["headers"]) for user in (owner, editor)]
    assert answers[0].get_data() == answers[1].get_data()
    page = f"{home['tasks']}?list_id={home['Home']}"
    pages = [client.get(page, headers=user["headers"]) for user in (owner, editor)]
    assert pages[0].get_data() == pages[1].get_data()


def test_a_task_is_assigned_to_its_owner_or_a_member_of_its_list(
    client, owner, editor, viewer, stranger, home
):
    shared = create(client, home, owner, list_id=home["Home"])
    url = f"{home['tasks']}/{shared['id']}"
    for user in (editor, viewer, owner):
        body = {"assignee_id": user["user_id"]}
        assert (
            ok(client.patch(url, json=body, headers=owner["headers"]))["assignee_id"]
            == (user["user_id"])
        )
    by_member = {"assignee_id": editor["user_id"]}
    assert (
        ok(client.patch(url, json=by_member, headers=editor["headers"]))["updated_by"]
        == (editor["user_id"])
    )
    refused = client.patch(url, json={"assignee_id": stranger["user_id"]}, headers=owner["headers"])
    assert "assignee_id" in assert_problem(refused, 422)["errors"]
    replaced = client.put(
        url, json={"title": "Dishes", "assignee_id": None}, headers=owner["headers"]
    )
    assert ok(replaced)["assignee_id"] is None
    private = create(client, home, owner, list_id=home["Private"])
    inbox = create(client, home, owner)
    for task in (private, inbox):
        task_url = f"{home['tasks']}/{task['id']}"
        assert_problem(client.patch(task_url, json=by_member, headers=owner["headers"]), 422)
        mine = ok(
            client.patch(task_url, json={"assignee_id": owner["user_id"]}, headers=owner["headers"])
        )
        assert mine["assignee_id"] == owner["user_id"]
    made = create(client, home, editor, list_id=home["Home"], assignee_id=viewer["user_id"])
    assert made["assignee_id"] == viewer["user_id"]
    for place in ({"list_id": home["Private"]}, {}):
        body = {"title": "Dishes", "assignee_id": editor["user_id"], **place}
        assert_problem(client.post(home["tasks"], json=body, headers=owner["headers"]), 422)
    subtask = create(client, home, owner, parent_id=shared["id"], assignee_id=editor["user_id"])
    assert (subtask["list_id"], subtask["assignee_id"]) == (home["Home"], editor["user_id"])
    unknown = client.patch(f"{home['tasks']}/{UNKNOWN}", json=by_member, headers=owner["headers"])
    assert_problem(unknown, 404)


def test_a_task_moved_where_its_assignee_is_no_member_is_unassigned(client, owner, editor, home):
    assigned = {"list_id": home["Home"], "assignee_id": editor["user_id"]}
    parent = create(client, home, owner, **assigned)
    child = create(client, home, owner, parent_id=parent["id"], assignee_id=editor["user_id"])
    mine = create(client, home, owner, list_id=home["Home"], assignee_id=owner["user_id"])
    url = f"{home['tasks']}/{parent['id']}"
    moved = ok(client.patch(url, json={"list_id": home["Private"]}, headers=owner["headers"]))
    assert (moved["list_id"], moved["assignee_id"]) == (home["Private"], None)
    child_now = ok(client.get(f"{home['tasks']}/{child['id']}", headers=owner["headers"]))
    assert (child_now["list_id"], child_now["assignee_id"]) == (home["Private"], None)
    move = f"{home['tasks']}/{mine['id']}/move"
    kept = ok(client.post(move, json={"list_id": None}, headers=owner["headers"]))
    assert (kept["list_id"], kept["assignee_id"]) == (None, owner["user_id"])
    back = ok(client.post(url + "/move", json={"list_id": home["Home"]}, headers=owner["headers"]))
    assert back["assignee_id"] is None  # nothing to keep: unassigned stays unassigned


def feed_after(client, owner, cursor) -> dict:
    return {task["id"]: task for task in poll(client, owner, cursor)["tasks"]}


@pytest.mark.parametrize("ending", ["leave", "removal", "account deletion"])
def test_a_members_assignments_end_with_the_membership_in_the_owners_feed(
    client, owner, editor, viewer, home, ending
):
    base, member = home["base"], editor["user_id"]
    assigned = [create(client, home, owner, list_id=home["Home"], assignee_id=member)]
    assigned.append(create(client, home, editor, list_id=home["Home"], assignee_id=member))
    others = create(client, home, owner, list_id=home["Home"], assignee_id=viewer["user_id"])
    cursor = poll(client, owner)["next"]
    if ending == "leave":
        url = f"/api/{member}/memberships/{owner['user_id']}/{home['Home']}"
        assert client.delete(url, headers=editor["headers"]).status_code == 204
    elif ending == "removal":
        url = f"{base}/lists/{home['Home']}/members/{member}"
        assert client.delete(url, headers=owner["headers"]).status_code == 204
    else:
        gone = client.delete("/api/auth/me", json={"password": PASSWORD}, headers=editor["headers"])
        assert gone.status_code == 204
    changed = feed_after(client, owner, cursor)
    assert sorted(changed) == sorted(task["id"] for task in assigned)
    for task in assigned:
        now = changed[task["id"]]
        assert (now["assignee_id"], now["version"]) == (None, task["version"] + 1)
        assert now["created_by"] == task["created_by"]  # the ids stay, the member gone or not
        read = ok(client.get(f"{home['tasks']}/{task['id']}", headers=owner["headers"]))
        assert read == now
    still = ok(client.get(f"{home['tasks']}/{others['id']}", headers=owner["headers"]))
    assert still == others


def test_nothing_assigned_to_the_member_leaves_the_owners_feed_as_it_was(
    client, owner, editor, home
):
    create(client, home, owner, list_id=home["Home"])
    cursor = poll(client, owner)["next"]
    url = f"{home['base']}/lists/{home['Home']}/members/{editor['user_id']}"
    assert client.delete(url, headers=owner["headers"]).status_code == 204
    page = poll(client, owner, cursor)
    # The cursor's body: the owner's change number, unmoved (no change was made).
    number = cursors.decode(cursor.split(".")[0])[1]
    assert (page["tasks"], cursors.decode(page["next"].split(".")[0])[1]) == ([], number)


def titles(answer) -> list[str]:
    return sorted(task["title"] for task in ok(answer))


def test_the_list_queries_filter_by_assignee(client, owner, editor, viewer, home):
    for title, assignee in (("a", owner), ("b", editor), ("c", viewer), ("d", None)):
        assignee_id = assignee and assignee["user_id"]
        create(client, home, owner, title=title, list_id=home["Home"], assignee_id=assignee_id)
    create(client, home, owner, title="e", assignee_id=owner["user_id"])
    tasks = home["tasks"]
    assert titles(client.get(f"{tasks}?assignee=me", headers=owner["headers"])) == ["a", "e"]
    shared = f"{tasks}?list_id={home['Home']}"
    assert titles(client.get(f"{shared}&assignee=me", headers=editor["headers"])) == ["b"]
    assert titles(client.get(f"{shared}&assignee=me", headers=viewer["headers"])) == ["c"]
    by_id = f"{shared}&assignee={editor['user_id']}"
    assert titles(client.get(by_id, headers=owner["headers"])) == ["b"]
    assert titles(client.get(f"{shared}&assignee=none", headers=editor["headers"])) == ["d"]
    assert titles(client.get(f"{tasks}?assignee=none&limit=1", headers=owner["headers"])) == ["d"]
    bad = client.get(f"{tasks}?assignee=someone", headers=owner["headers"])
    assert "assignee" in assert_problem(bad, 400)["errors"]
    exported = client.get(f"{home['base']}/export/csv?assignee=me", headers=owner["headers"])
    assert exported.status_code == 200
    assert len(exported.get_data(as_text=True).strip().splitlines()) == 1 + 2


def test_the_completion_history_says_who(client, owner, editor, home):
    task = create(client, home, owner, list_id=home["Home"])
    url = f"{home['tasks']}/{task['id']}"
    ok(client.patch(f"{url}/complete", headers=editor["headers"]))
    due = {"due": {"date": "2026-12-24"}, "recurrence": {"rule": "FREQ=DAILY"}}
    recurring = create(client, home, owner, list_id=home["Home"], **due)
    ok(client.patch(f"{home['tasks']}/{recurring['id']}/complete", headers=editor["headers"]))
    create(client, home, owner, title="Done", completed=True)
    history = ok(client.get(f"{home['base']}/completions", headers=owner["headers"]))
    by_task = {entry["task_id"]: entry["completed_by"] for entry in history}
    assert by_task[task["id"]] == editor["user_id"]
    assert by_task[recurring["id"]] == editor["user_id"]
    assert sorted(by_task.values()) == sorted([editor["user_id"]] * 2 + [owner["user_id"]])
    exported = ok(client.get(f"{home['base']}/export", headers=owner["headers"]))
    assert {entry["task_id"]: entry["completed_by"] for entry in exported["completions"]} == (
        by_task
    )


def test_a_batch_assigns_as_its_routes_do(client, owner, editor, stranger, home):
    task = create(client, home, owner, list_id=home["Home"])
    operations = [
        {
            "op": "create",
            "task": {"title": "x", "list_id": home["Home"], "assignee_id": editor["user_id"]},
        },
        {"op": "patch", "id": task["id"], "changes": {"assignee_id": editor["user_id"]}},
        {"op": "patch", "id": task["id"], "changes": {"assignee_id": stranger["user_id"]}},
        {"op": "create", "task": {"title": "y", "assignee_id": editor["user_id"]}},
    ]
    answer = client.post(
        home["batch"], json={"atomic": False, "operations": operations}, headers=editor["headers"]
    )
    results = ok(answer)["results"]
    assert [result["status"] for result in results] == [201, 200, 422, 422]
    assert results[0]["task"]["assignee_id"] == editor["user_id"]
    assert results[1]["task"]["assignee_id"] == editor["user_id"]
    refused = client.post(home["batch"], json={"operations": operations}, headers=owner["headers"])
    assert (refused.status_code, refused.get_json()["index"]) == (422, 2)
    assert (
        ok(client.get(f"{home['tasks']}/{task['id']}", headers=owner["headers"]))["version"]
        == (results[1]["task"]["version"])
    )


def test_an_assignment_racing_the_members_removal_never_outlives_it(
    app, client, owner, editor, home, database_kind
):
    """Three rounds of ten assignments to the editor (by PATCH, by a create, by a batch)
    racing the editor's removal: each lands before it (and is undone by it) or is refused
    after it; no task is left assigned to someone who is no member."""
    if database_kind == "sqlite":
        pytest.skip("SQLite runs one writer at a time: nothing interleaves")
    member = f"{home['base']}/lists/{home['Home']}/members/{editor['user_id']}"
    assign = {"assignee_id": editor["user_id"]}
    for round_number in range(3):
        if round_number:
            join(client, owner, editor, home["Home"])
        tasks = [create(client, home, owner, list_id=home["Home"]) for _ in range(6)]
        counter = iter(range(11))

        def run(one, tasks=tasks, counter=counter):
            n = next(counter)
            if n == 0:
                return n, one.delete(member, headers=owner["headers"]).status_code
            if n < 7:
                url = f"{home['tasks']}/{tasks[n - 1]['id']}"
                return n, one.patch(url, json=assign, headers=owner["headers"]).status_code
            body = {"title": f"new {n}", "list_id": home["Home"], **assign}
            if n < 9:
                return n, one.post(home["tasks"], json=body, headers=owner["headers"]).status_code
            operations = [{"op": "create", "task": body}]
            batch = {"operations": operations}
            return n, one.post(home["batch"], json=batch, headers=owner["headers"]).status_code

        answers = dict(at_once(app, 11, run))
        assert answers[0] == 204
        assert {answers[n] for n in range(1, 11)} <= {200, 201, 422}
        url = f"{home['tasks']}?assignee={editor['user_id']}"
        assert ok(client.get(url, headers=owner["headers"])) == [], round_number


def test_subtasks_reopened_by_their_parents_roll_over_say_nobody_completed_them(
    client, owner, editor, home
):
    due = {"due": {"date": "2026-12-24"}, "recurrence": {"rule": "FREQ=DAILY"}}
    parent = create(client, home, owner, list_id=home["Home"], **due)
    child = create(client, home, owner, parent_id=parent["id"], completed=True)
    assert child["completed_by"] == owner["user_id"]
    ok(client.patch(f"{home['tasks']}/{parent['id']}/complete", headers=editor["headers"]))
    reopened = ok(client.get(f"{home['tasks']}/{child['id']}", headers=owner["headers"]))
    assert (reopened["completed"], reopened["completed_by"]) == (False, None)


def test_a_move_racing_the_assignees_removal_from_the_new_list_never_outlives_it(
    app, client, owner, editor, home, database_kind
):
    """Tasks assigned to the editor move from one list the editor shares to another while
    the editor is removed from the second: none is left there assigned to them."""
    if database_kind == "sqlite":
        pytest.skip("SQLite runs one writer at a time: nothing interleaves")
    member = f"{home['base']}/lists/{home['Private']}/members/{editor['user_id']}"
    assigned = {"list_id": home["Home"], "assignee_id": editor["user_id"]}
    for round_number in range(3):
        join(client, owner, editor, home["Private"])
        tasks = [create(client, home, owner, **assigned) for _ in range(8)]
        counter = iter(range(9))

        def run(one, tasks=tasks, counter=counter):
            n = next(counter)
            if n == 0:
                return one.delete(member, headers=owner["headers"]).status_code
            url, body = f"{home['tasks']}/{tasks[n - 1]['id']}", {"list_id": home["Private"]}
            if n % 2:
                return one.patch(url, json=body, headers=owner["headers"]).status_code
            return one.post(f"{url}/move", json=body, headers=owner["headers"]).status_code

        assert sorted(at_once(app, 9, run)) == [200] * 8 + [204]
        url = f"{home['tasks']}?list_id={home['Private']}&assignee={editor['user_id']}"
        assert ok(client.get(url, headers=owner["headers"])) == [], round_number
