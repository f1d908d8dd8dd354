"""The manual order: positions as fractional indexes, moves after / before / between / to the
end, client-computed keys, re-spacing when keys run out, and the `position` sort."""

import uuid
from datetime import UTC, datetime

import pytest
from fractional_indexing import generate_key_between
from sqlalchemy import insert, select, update

from tests.conftest import assert_problem
from tests.test_due import create, listed, patch, tasks_url
from tests.test_lists import assert_problem_type
from tests.threads import at_once
from todo.extensions import db
from todo.lists.models import lists
from todo.tasks import positions
from todo.tasks.models import tasks
from todo.tasks.ordering import REBALANCE_AFTER
from todo.tasks.positions import FIRST_WINDOW


def titles(client, user) -> list[str]:
    return [task["title"] for task in listed(client, user, sort="position", limit=7)]


def move(client, user, task, **place):
    body = {name: neighbour["id"] for name, neighbour in place.items()}
    return client.post(f"{tasks_url(user)}/{task['id']}/move", json=body, headers=user["headers"])


@pytest.fixture
def abc(client, user):
    return [create(client, user, title) for title in "ABC"]


def test_new_tasks_go_to_the_end_in_creation_order(client, user, abc):
    assert titles(client, user) == ["A", "B", "C"]
    assert [task["position"] for task in abc] == sorted(task["position"] for task in abc)
    assert listed(client, user, sort="-position")[0]["title"] == "C"


def test_a_move_puts_a_task_after_before_between_or_at_the_end(client, user, abc):
    a, b, c = abc
    assert move(client, user, c, after=a).status_code == 200
    assert titles(client, user) == ["A", "C", "B"]
    assert move(client, user, a, before=b).status_code == 200
    assert titles(client, user) == ["C", "A", "B"]
    moved = move(client, user, b, after=c, before=a)
    assert moved.status_code == 200 and "X-Positions-Rebalanced" not in moved.headers
    assert titles(client, user) == ["C", "B", "A"]
    assert move(client, user, c).status_code == 200
    assert titles(client, user) == ["B", "A", "C"]
    assert moved.headers["ETag"] == f'"{moved.get_json()["version"]}"'


def test_neighbours_out_of_order_are_409_stale_order(client, user, abc):
    a, b, c = abc
    answer = move(client, user, a, after=c, before=b)
    assert (answer.status_code, answer.content_type) == (409, "application/problem+json")
    assert answer.get_json()["type"] == "/problems/stale-order"
    assert titles(client, user) == ["A", "B", "C"]


def test_unknown_foreign_and_self_neighbours_are_refused(client, user, other_user, abc):
    a, b, _ = abc
    theirs = create(client, other_user, "theirs")
    assert_problem(move(client, user, a, after=theirs), 404)
    assert_problem(move(client, user, a, before={"id": str(uuid.uuid4())}), 404)
    assert list(assert_problem(move(client, user, a, after=a), 422)["errors"]) == ["after"]
    stale = {**user["headers"], "If-Match": '"7"'}
    answer = client.post(f"{tasks_url(user)}/{b['id']}/move", json={}, headers=stale)
    assert_problem(answer, 412)
    assert titles(client, user) == ["A", "B", "C"]


def test_a_client_computed_key_is_taken_as_sent(client, user, abc):
    a, b, c = abc
    key = generate_key_between(a["position"], b["position"])
    answer = patch(client, user, c["id"], {"position": key})
    assert answer.status_code == 200 and answer.get_json()["position"] == key
    assert titles(client, user) == ["A", "C", "B"]
    same = patch(client, user, b["id"], {"position": key}).get_json()  # duplicates are legal
    assert same["position"] == key
    ordered = sorted([(key, b["id"], "B"), (key, c["id"], "C")])
    assert titles(client, user) == ["A", *(title for _, _, title in ordered)]


@pytest.mark.parametrize("key", ["", "zz", "a0" + "V" * 63, "a00", 7, None])
def test_a_key_off_the_algorithm_is_422(client, user, abc, key):
    answer = patch(client, user, abc[0]["id"], {"position": key})
    assert "position" in assert_problem(answer, 422)["errors"]


# Characters the library's check lets through (it checks a key's head and last digit only).
OFF_THE_ALPHABET = ["a0 ", "a0~", "a0!", "a0/", "a0é", "a0\u00a0", "a0\u202e", "a0☃", "a0\x00"]


@pytest.mark.parametrize("key", OFF_THE_ALPHABET)
def test_a_key_with_a_digit_off_the_alphabet_is_422_for_tasks_and_lists(client, user, abc, key):
    answer = patch(client, user, abc[0]["id"], {"position": key})
    assert "position" in assert_problem(answer, 422)["errors"]
    lists_url = f"/api/{user['user_id']}/lists"
    home = client.post(lists_url, json={"name": "Home"}, headers=user["headers"]).get_json()
    answer = client.patch(
        f"{lists_url}/{home['id']}", json={"position": key}, headers=user["headers"]
    )
    assert "position" in assert_problem(answer, 422)["errors"]
    placed = {"title": "D", "after": abc[0]["id"]}
    assert client.post(tasks_url(user), json=placed, headers=user["headers"]).status_code == 201
    assert client.post(lists_url, json={"name": "Work"}, headers=user["headers"]).status_code == 201
    assert titles(client, user) == ["A", "D", "B", "C"]


@pytest.mark.parametrize("key", OFF_THE_ALPHABET[:-1])  # PostgreSQL's text holds no NUL
def test_a_key_off_the_alphabet_stored_before_is_re_spaced_away(app, client, user, abc, key):
    """Such keys were taken once: a create or a move next to one re-spaces instead of
    failing, and a list is made after one."""
    lists_url = f"/api/{user['user_id']}/lists"
    home = client.post(lists_url, json={"name": "Home"}, headers=user["headers"]).get_json()
    with app.app_context():
        db.session.execute(
            update(tasks).where(tasks.c.id == uuid.UUID(abc[0]["id"])).values(position=key)
        )
        db.session.execute(
            update(lists).where(lists.c.id == uuid.UUID(home["id"])).values(position=key)
        )
        db.session.commit()
    placed = {"title": "D", "after": abc[0]["id"]}
    answer = client.post(tasks_url(user), json=placed, headers=user["headers"])
    assert answer.status_code == 201, answer.get_json()
    assert move(client, user, abc[2], after=abc[0]).status_code == 200
    assert titles(client, user) == ["A", "C", "D", "B"]
    work = client.post(lists_url, json={"name": "Work"}, headers=user["headers"])
    assert work.status_code == 201, work.get_json()
    listed_names = client.get(lists_url, headers=user["headers"]).get_json()
    assert [found["name"] for found in listed_names] == ["Home", "Work"]


def test_a_thousand_inserts_at_one_spot_re_space_a_bounded_neighbourhood(app, client, user, abc):
    """Each new task goes directly after A: the gap halves every time, keys grow, and past
    REBALANCE_AFTER characters the tasks around the place get new keys in the same change
    (a window on each side, not the whole list)."""
    a = abc[0]
    rebalances, inserted = [], []
    for n in range(1000):
        task = create(client, user, f"n{n}")
        answer = move(client, user, task, after=a)
        assert answer.status_code == 200, answer.get_json()
        assert len(answer.get_json()["position"]) <= REBALANCE_AFTER
        inserted.append(task["title"])
        if "X-Positions-Rebalanced" in answer.headers:
            rebalances.append(int(answer.headers["X-Positions-Rebalanced"]))
            with app.app_context():
                numbers = db.session.scalars(select(tasks.c.change_number)).all()
            assert numbers.count(max(numbers)) == rebalances[-1] + 1  # and the one moved
    assert 1 <= len(rebalances) <= 1000 // 20
    assert max(rebalances) <= 2 * FIRST_WINDOW
    assert titles(client, user) == ["A", *reversed(inserted), "B", "C"]


def test_creates_at_one_spot_say_when_they_re_spaced_their_neighbours(client, user, abc):
    """A create placed where no key fits re-spaces the tasks around it, and says how many
    moved, as a move does."""
    a = abc[0]
    for n in range(400):
        answer = client.post(
            tasks_url(user), json={"title": f"n{n}", "after": a["id"]}, headers=user["headers"]
        )
        assert answer.status_code == 201, answer.get_json()
        assert len(answer.get_json()["position"]) <= REBALANCE_AFTER
        if "X-Positions-Rebalanced" in answer.headers:
            break
    else:
        pytest.fail("400 creates at one spot never re-spaced the list")
    assert 1 <= int(answer.headers["X-Positions-Rebalanced"]) <= 2 * FIRST_WINDOW
    assert titles(client, user)[:2] == ["A", f"n{n}"]


def test_tasks_created_together_get_keys_of_their_own_in_their_order(client, user, abc):
    """A batch's creates share its change number: their keys carry their place in it."""
    operations = [{"op": "create", "task": {"title": f"b{n}"}} for n in range(70)]
    answer = client.post(
        f"/api/{user['user_id']}/batch", json={"operations": operations}, headers=user["headers"]
    )
    made = [result["task"] for result in answer.get_json()["results"]]
    keys = [task["position"] for task in made]
    assert keys == sorted(set(keys)) and len(keys) == 70
    assert all(len(key) <= REBALANCE_AFTER and abc[2]["position"] < key for key in keys)
    between = move(client, user, abc[0], after=made[0], before=made[1])
    assert between.status_code == 200 and "X-Positions-Rebalanced" not in between.headers
    later = create(client, user, "later")
    assert later["position"] > keys[-1]


def tasks_sharing_one_key(app, user, count: int) -> list[uuid.UUID]:
    """`count` tasks of the user's with one key, written directly; their ids in order."""
    owner, now = uuid.UUID(user["user_id"]), datetime.now(UTC)
    ids = sorted(uuid.uuid4() for _ in range(count))
    with app.app_context():
        db.session.execute(
            insert(tasks),
            [
                {"user_id": owner, "id": task_id, "title": "t", "position": "a0"}
                | {"created_at": now, "updated_at": now, "created_by": owner, "updated_by": owner}
                for task_id in ids
            ],
        )
        db.session.commit()
    return ids


def test_a_move_into_the_middle_of_100000_equal_keys_keeps_the_order(
    app, client, user, database_kind
):
    """Tasks that share one key (created together before they got keys of their own, or so
    placed by a client): a move among them gives new keys to one side of the place only, a
    page of tasks a statement, and the whole order stays as it was with the task where it
    was dropped (this was a whole-scope re-spacing: 165 s at 300,001 tasks, then a 503)."""
    owner = uuid.UUID(user["user_id"])
    equal_keys = 100_000 if database_kind == "postgresql" else 5_000  # the same code elsewhere
    ids = tasks_sharing_one_key(app, user, equal_keys)
    moving = create(client, user, "moving")
    middle = equal_keys // 2
    answer = move(client, user, moving, after={"id": str(ids[middle])})
    assert answer.status_code == 200, answer.get_json()
    assert 0 < int(answer.headers["X-Positions-Rebalanced"]) <= middle + 1
    with app.app_context():
        order = db.session.scalars(
            select(tasks.c.id)
            .where(tasks.c.user_id == owner)
            .order_by(tasks.c.position, tasks.c.id)
        ).all()
    assert order == [*ids[: middle + 1], uuid.UUID(moving["id"]), *ids[middle + 1 :]]


def test_a_place_among_more_equal_keys_than_a_re_spacing_takes_is_409(
    app, client, user, monkeypatch
):
    monkeypatch.setattr(positions, "MOST_RESPACED", 64)
    ids = tasks_sharing_one_key(app, user, 200)
    moving = create(client, user, "moving")
    answer = move(client, user, moving, after={"id": str(ids[100])})
    assert assert_problem_type(answer, 409) == "/problems/order-too-dense"
    assert client.get(f"{tasks_url(user)}/{moving['id']}", headers=user["headers"]).get_json() == (
        moving
    )


def test_two_moves_into_one_gap_at_once_end_in_one_consistent_order(app, client, user, abc):
    a, b, _ = abc
    x, y = create(client, user, "X"), create(client, user, "Y")
    movers = iter([x, y])

    def move_into_the_gap(client):
        return move(client, user, next(movers), after=a, before=b)

    answers = at_once(app, 2, move_into_the_gap)
    assert [answer.status_code for answer in answers] == [200, 200]
    order = titles(client, user)
    assert order[0] == "A" and set(order[1:3]) == {"X", "Y"} and order[3:] == ["B", "C"]
    assert titles(client, user) == order


def test_a_new_task_can_be_placed_like_a_move(client, user, abc):
    a, _, c = abc
    after_a = create(client, user, "after A", after=a["id"])
    create(client, user, "before C", before=c["id"])
    create(client, user, "between", after=a["id"], before=after_a["id"])
    assert titles(client, user) == ["A", "between", "after A", "B", "before C", "C"]
    answer = client.post(
        tasks_url(user),
        json={"title": "stale", "after": c["id"], "before": a["id"]},
        headers=user["headers"],
    )
    assert (answer.status_code, answer.get_json()["type"]) == (409, "/problems/stale-order")
    unknown = {"title": "x", "after": str(uuid.uuid4())}
    assert_problem(client.post(tasks_url(user), json=unknown, headers=user["headers"]), 404)
    assert len(titles(client, user)) == 6  # nothing half-written


def test_a_placed_create_with_a_chosen_id_replays_and_a_batch_places_too(client, user, abc):
    a, b, _ = abc
    body = {"id": str(uuid.uuid4()), "title": "offline", "after": a["id"]}
    first, again = (
        client.post(tasks_url(user), json=body, headers=user["headers"]) for _ in range(2)
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    batch = client.post(
        f"/api/{user['user_id']}/batch",
        json={"operations": [{"op": "create", "task": {"title": "batched", "before": b["id"]}}]},
        headers=user["headers"],
    )
    assert batch.status_code == 200, batch.get_json()
    assert titles(client, user) == ["A", "offline", "batched", "B", "C"]
