"""Due dates in their three forms (all-day, floating, zoned), priority, completion time and the
user's zone: what is written, what is read back, what is refused, and the list queries that
place dates in a zone ("today", "overdue", ranges, the due order)."""

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.conftest import assert_problem
from tests.threads import at_once
from todo.extensions import db

ALL_DAY = {"date": "2026-12-24", "time": None, "timezone": None, "at": None}
FLOATING = {"date": "2026-12-24", "time": "18:30", "timezone": None, "at": None}
ZONED = {
    "date": "2026-12-24",
    "time": "18:30",
    "timezone": "Europe/Paris",
    "at": "2026-12-24T17:30:00.000000Z",
}


def tasks_url(user) -> str:
    return f"/api/{user['user_id']}/tasks"


def create(client, user, title="task", **fields) -> dict:
    answer = client.post(tasks_url(user), json={"title": title, **fields}, headers=user["headers"])
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def patch(client, user, task_id, body, content_type="application/json"):
    return client.patch(
        f"{tasks_url(user)}/{task_id}",
        data=json.dumps(body),
        content_type=content_type,
        headers=user["headers"],
    )


def listed(client, user, **query) -> list[dict]:
    """Every task the list query answers, following its pages."""
    url, found = tasks_url(user), []
    while url:
        answer = client.get(url, query_string=query, headers=user["headers"])
        assert answer.status_code == 200, answer.get_json()
        found += answer.get_json()
        link, query = answer.headers.get("Link"), None
        url = re.fullmatch(r'<http://localhost(.+)>; rel="next"', link).group(1) if link else None
    return found


def written(due: dict) -> dict:
    return {name: value for name, value in due.items() if name != "at" and value is not None}


@pytest.mark.parametrize("due", [ALL_DAY, FLOATING, ZONED], ids=["all-day", "floating", "zoned"])
def test_each_form_is_read_back_as_written_with_its_instant(client, user, due):
    task = create(client, user, due=written(due))
    assert task["due"] == due
    read = client.get(f"{tasks_url(user)}/{task['id']}", headers=user["headers"]).get_json()
    assert read["due"] == due
    assert listed(client, user)[0]["due"] == due


def test_an_instant_with_its_zone_is_stored_as_that_zones_wall_clock(client, user):
    task = create(client, user, due={"at": "2026-12-24T17:30:00Z", "timezone": "Europe/Paris"})
    assert task["due"] == ZONED
    task = create(client, user, due={"at": "2026-07-01T23:15:00-04:00", "timezone": "Asia/Tokyo"})
    assert task["due"]["date"] == "2026-07-02" and task["due"]["time"] == "12:15"


@pytest.mark.parametrize(
    ("wall", "instant"),
    [
        ("2026-03-08T02:30", "2026-03-08T07:30:00.000000Z"),  # the gap: the offset before it
        ("2026-11-01T01:30", "2026-11-01T05:30:00.000000Z"),  # the overlap: its first time
    ],
    ids=["gap", "overlap"],
)
def test_new_york_dst_gap_and_overlap_follow_rfc_5545(client, user, wall, instant):
    day, time = wall.split("T")
    due = {"date": day, "time": time, "timezone": "America/New_York"}
    task = create(client, user, due=due)
    assert task["due"] == {**due, "at": instant}  # the wall clock stays as written


@pytest.mark.parametrize(
    "due",
    [
        {"at": "2026-12-24T17:30:00Z"},  # an instant without its zone
        {"at": "2026-12-24T17:30:00Z", "timezone": "UTC", "date": "2026-12-24"},  # both forms
        {"at": "2026-12-24T17:30:00", "timezone": "UTC"},  # no offset: not an instant
        {"time": "10:00"},  # a time without a date
        {"date": "2026-12-24", "timezone": "Europe/Paris"},  # a zone without a time
        {"date": "2026-12-24", "time": "10:00", "timezone": "Mars/Olympus"},
        {"date": "2026-12-24", "time": "10:00", "timezone": "/etc/localtime"},
        {"date": "24.12.2026"},
        {"date": "3000-01-01"},
        {"date": "1899-12-31"},
        {"date": "2026-12-24", "time": "24:00"},
        {"date": "2026-12-24", "time": "10:00:00.5"},
        {"date": "2026-12-24", "priority": 1},
        "2026-12-24",
    ],
)
def test_a_due_date_in_no_valid_form_is_422_on_due(client, user, due):
    answer = client.post(tasks_url(user), json={"title": "x", "due": due}, headers=user["headers"])
    errors = assert_problem(answer, 422)["errors"]
    assert [path.split(".")[0] for path in errors] == ["due"], errors  # `due`, or in it
    assert listed(client, user) == []


def test_patch_merges_the_due_date(client, user):
    task = create(client, user, due=written(ZONED))
    url = f"{tasks_url(user)}/{task['id']}"
    moved = patch(client, user, task["id"], {"due": {"time": "19:00"}}).get_json()
    assert moved["due"] == {**ZONED, "time": "19:00", "at": "2026-12-24T18:00:00.000000Z"}
    all_day = patch(
        client, user, task["id"], {"due": {"time": None}}, "application/merge-patch+json"
    )
    assert all_day.status_code == 200 and all_day.get_json()["due"] == ALL_DAY
    later = patch(client, user, task["id"], {"due": {"date": "2026-12-31"}}).get_json()
    assert later["due"] == {**ALL_DAY, "date": "2026-12-31"}
    cleared = patch(client, user, task["id"], {"due": None}).get_json()
    assert cleared["due"] is None
    assert_problem(patch(client, user, task["id"], {"due": {"time": "10:00"}}), 422)
    assert client.get(url, headers=user["headers"]).get_json()["due"] is None


@pytest.mark.parametrize("field", ["priority", "title", "completed"])
def test_null_for_a_field_that_cannot_be_null_is_422(client, user, field):
    task = create(client, user)
    assert field in assert_problem(patch(client, user, task["id"], {field: None}), 422)["errors"]


@pytest.mark.parametrize("field", ["completed_at", "due_at"])
def test_read_only_fields_are_refused(client, user, field):
    answer = client.post(
        tasks_url(user),
        json={"title": "x", field: "2026-01-01T00:00:00Z"},
        headers=user["headers"],
    )
    assert field in assert_problem(answer, 422)["errors"]


def test_a_seed_shaped_put_leaves_every_newer_field_as_it_was(client, user):
    task = create(client, user, due=written(ZONED), priority=3)
    answer = client.put(
        f"{tasks_url(user)}/{task['id']}",
        json={"title": "renamed", "description": "seed client", "completed": False},
        headers=user["headers"],
    )
    replaced = answer.get_json()
    assert (replaced["title"], replaced["due"], replaced["priority"]) == ("renamed", ZONED, 3)
    # Sent, a newer field is replaced whole (not merged) by a PUT.
    answer = client.put(
        f"{tasks_url(user)}/{task['id']}",
        json={"title": "renamed", "due": {"date": "2027-01-05"}, "priority": 0},
        headers=user["headers"],
    )
    assert answer.get_json()["due"] == {**ALL_DAY, "date": "2027-01-05"}
    assert answer.get_json()["priority"] == 0


@pytest.mark.parametrize("priority", [-1, 4, 1.5, "2", True])
def test_priority_outside_0_to_3_is_422(client, user, priority):
    answer = client.post(
        tasks_url(user), json={"title": "x", "priority": priority}, headers=user["headers"]
    )
    assert "priority" in assert_problem(answer, 422)["errors"]


def test_priority_defaults_to_0_and_sorts_both_ways(client, user):
    ids = [create(client, user, f"p{p}", priority=p)["id"] for p in (2, 0, 3, 1)]
    assert create(client, user, "default")["priority"] == 0
    by_priority = [t["priority"] for t in listed(client, user, sort="priority", limit=2)]
    assert by_priority == [0, 0, 1, 2, 3]
    descending = [t["id"] for t in listed(client, user, sort="-priority", limit=2)]
    assert descending[:3] == [ids[2], ids[0], ids[3]]


def test_completed_at_follows_every_way_of_completing(client, user):
    task = create(client, user)
    assert task["completed_at"] is None
    url = f"{tasks_url(user)}/{task['id']}"
    done = client.patch(f"{url}/complete", headers=user["headers"]).get_json()
    assert done["completed"] and done["completed_at"] is not None
    again = client.patch(f"{url}/complete", json={"completed": True}, headers=user["headers"])
    assert again.get_json()["completed_at"] == done["completed_at"]  # unchanged: still done
    assert patch(client, user, task["id"], {"completed": False}).get_json()["completed_at"] is None
    put = client.put(url, json={"title": "t", "completed": True}, headers=user["headers"])
    assert put.get_json()["completed_at"] is not None
    batch = client.post(
        f"/api/{user['user_id']}/batch",
        json={"operations": [{"op": "complete", "id": task["id"], "completed": False}]},
        headers=user["headers"],
    )
    assert batch.status_code == 200, batch.get_json()
    assert client.get(url, headers=user["headers"]).get_json()["completed_at"] is None
    created_done = create(client, user, completed=True)
    assert created_done["completed_at"] == created_done["created_at"]


def test_the_database_refuses_rows_that_break_the_invariants(app, client, user):
    task = create(client, user, due=written(FLOATING))
    create(client, user, "undated")
    broken = [
        ("task", "completed = true"),  # completed without completed_at
        ("task", "priority = 7"),
        ("task", "due_date = NULL"),  # a time without its date
        ("task", "due_timezone = 'Europe/Paris'"),  # a zone without its instant
        ("undated", "recurrence_rule = 'FREQ=DAILY', recurrence_from = 'due'"),  # no due date
        ("task", "recurrence_rule = 'FREQ=DAILY', recurrence_from = 'whenever'"),
    ]
    with app.app_context():
        for title, change in broken:
            with pytest.raises(IntegrityError):
                statement = text(f"UPDATE tasks SET {change} WHERE title = :title")
                db.session.execute(statement, {"title": title})
            db.session.rollback()
    assert (
        client.get(f"{tasks_url(user)}/{task['id']}", headers=user["headers"]).get_json()["due"]
        == FLOATING
    )


def test_the_users_zone_is_read_set_and_refused_when_unknown(client, user):
    me = client.get("/api/auth/me", headers=user["headers"]).get_json()
    assert me["timezone"] is None
    answer = client.patch(
        "/api/auth/me", json={"timezone": "Asia/Kolkata"}, headers=user["headers"]
    )
    assert answer.status_code == 200 and answer.get_json()["timezone"] == "Asia/Kolkata"
    assert client.get("/api/auth/me", headers=user["headers"]).get_json()["timezone"] == (
        "Asia/Kolkata"
    )
    answer = client.patch(
        "/api/auth/me", json={"timezone": "Asia/Nowhere"}, headers=user["headers"]
    )
    assert "timezone" in assert_problem(answer, 422)["errors"]
    answer = client.patch("/api/auth/me", json={"timezone": None}, headers=user["headers"])
    assert answer.get_json()["timezone"] is None


@pytest.mark.parametrize("zone_name", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_today_is_the_users_today_at_both_ends_of_the_clock(client, user, zone_name):
    """UTC+14 and UTC-11: "today" is a different date there than in UTC for much of the day.

    The two zones are 25 hours apart, so for one hour of each UTC day their dates differ by
    two: the tasks span two days either side so the other end of the world always finds one.
    """
    today = datetime.now(UTC).astimezone(ZoneInfo(zone_name)).date()
    ids = {
        offset: create(client, user, f"{offset}", due={"date": str(today + timedelta(offset))})[
            "id"
        ]
        for offset in (-2, -1, 0, 1, 2)
    }
    client.patch("/api/auth/me", json={"timezone": zone_name}, headers=user["headers"])
    due_today = listed(client, user, due_from=str(today), due_to=str(today))
    assert [t["id"] for t in due_today] == [ids[0]]
    overdue = listed(client, user, overdue="true")
    assert {t["id"] for t in overdue} == {ids[-2], ids[-1]}
    not_overdue = listed(client, user, overdue="false", sort="due")
    assert [t["id"] for t in not_overdue] == [ids[0], ids[1], ids[2]]
    # The same list read from the other end of the world.
    other = "Pacific/Pago_Pago" if zone_name == "Pacific/Kiritimati" else "Pacific/Kiritimati"
    their_today = datetime.now(UTC).astimezone(ZoneInfo(other)).date()
    in_other = listed(client, user, due_from=str(their_today), due_to=str(their_today), tz=other)
    assert [t["title"] for t in in_other] == [str((their_today - today).days)]


def test_overdue_places_each_form_against_now(client, user):
    now = datetime.now(UTC)
    past, future = now - timedelta(hours=2), now + timedelta(hours=2)
    zone_name = "Asia/Tokyo"
    local_past = past.astimezone(ZoneInfo(zone_name))
    expected = {
        create(client, user, "zoned past", due={"at": past.isoformat(), "timezone": "UTC"})["id"],
        create(
            client,
            user,
            "floating past",
            due={"date": str(local_past.date()), "time": local_past.strftime("%H:%M")},
        )["id"],
    }
    create(client, user, "zoned future", due={"at": future.isoformat(), "timezone": "UTC"})
    create(client, user, "undated")
    overdue = listed(client, user, overdue="true", tz=zone_name)
    assert {t["id"] for t in overdue} == expected
    answer = client.get(tasks_url(user), query_string={"overdue": "true"}, headers=user["headers"])
    assert "ETag" not in answer.headers  # it changes with the clock, not with the tasks


def test_the_due_order_pages_every_task_once_and_reverses_exactly(client, user):
    made = [
        ("undated", None),
        ("zoned 09:00 Tokyo", {"date": "2026-12-25", "time": "09:00", "timezone": "Asia/Tokyo"}),
        ("all-day 24", {"date": "2026-12-24"}),
        ("floating 24 08:00", {"date": "2026-12-24", "time": "08:00"}),
        (
            "zoned 24 10:00 Paris",
            {"date": "2026-12-24", "time": "10:00", "timezone": "Europe/Paris"},
        ),
        ("all-day 23", {"date": "2026-12-23"}),
        ("undated 2", None),
    ]
    for title, due in made:
        create(client, user, title, **({"due": due} if due else {}))
    in_paris = [t["title"] for t in listed(client, user, sort="due", limit=2, tz="Europe/Paris")]
    # 09:00 in Tokyo is 01:00 in Paris on the 25th; 10:00 Paris after 08:00 floating.
    assert in_paris[:5] == [
        "all-day 23",
        "all-day 24",
        "floating 24 08:00",
        "zoned 24 10:00 Paris",
        "zoned 09:00 Tokyo",
    ]
    assert set(in_paris[5:]) == {"undated", "undated 2"}
    reversed_order = [
        t["title"] for t in listed(client, user, sort="-due", limit=3, tz="Europe/Paris")
    ]
    assert reversed_order == in_paris[::-1]
    # Read in Honolulu, the Paris morning is the evening before: before the floating 08:00.
    in_honolulu = [t["title"] for t in listed(client, user, sort="due", tz="Pacific/Honolulu")]
    assert in_honolulu.index("zoned 24 10:00 Paris") < in_honolulu.index("all-day 24")
    assert len(listed(client, user, has_due="true")) == 5
    assert {t["title"] for t in listed(client, user, has_due="false")} == {"undated", "undated 2"}


def test_completion_dates_filter_and_sort_with_open_tasks_last(client, user):
    done = [create(client, user, f"done {n}", completed=True)["id"] for n in range(3)]
    open_task = create(client, user, "open")["id"]
    order = [t["id"] for t in listed(client, user, sort="completed_at", limit=1)]
    assert order == [*done, open_task]
    assert [t["id"] for t in listed(client, user, sort="-completed_at", limit=2)] == order[::-1]
    today = str(datetime.now(UTC).date())
    window = listed(client, user, completed_from=today, completed_to=today, tz="UTC")
    assert {t["id"] for t in window} == set(done)
    yesterday = str(datetime.now(UTC).date() - timedelta(days=1))
    assert listed(client, user, completed_to=yesterday, tz="UTC") == []


@pytest.mark.parametrize(
    "query",
    [
        {"tz": "Nowhere/City"},
        {"due_from": "2026-13-01"},
        {"overdue": "yes"},
        {"sort": "due_at"},
        {"has_due": "1"},
    ],
)
def test_bad_list_parameters_are_400(client, user, query):
    assert_problem(client.get(tasks_url(user), query_string=query, headers=user["headers"]), 400)


def test_the_feed_a_batch_and_the_trash_carry_the_new_fields(client, user):
    batch = client.post(
        f"/api/{user['user_id']}/batch",
        json={
            "atomic": True,
            "operations": [
                {"op": "create", "task": {"title": "b", "due": written(ZONED), "priority": 2}}
            ],
        },
        headers=user["headers"],
    )
    assert batch.status_code == 200, batch.get_json()
    created = batch.get_json()["results"][0]["task"]
    assert (created["due"], created["priority"]) == (ZONED, 2)
    feed = client.get(f"/api/{user['user_id']}/changes", headers=user["headers"]).get_json()
    [task] = feed["tasks"]
    assert (task["due"], task["priority"], task["completed_at"]) == (ZONED, 2, None)
    trashed = client.delete(f"{tasks_url(user)}/{task['id']}", headers=user["headers"])
    assert trashed.status_code == 204
    [in_trash] = listed(client, user, deleted="true")
    assert (in_trash["due"], in_trash["priority"]) == (ZONED, 2)
    restore = client.post(f"{tasks_url(user)}/{task['id']}/restore", headers=user["headers"])
    assert restore.get_json()["due"] == ZONED
    changed = patch(client, user, task["id"], {"due": {"time": "20:00"}}).get_json()
    later = client.get(
        f"/api/{user['user_id']}/changes",
        query_string={"since": feed["next"]},
        headers=user["headers"],
    ).get_json()
    assert later["tasks"] == [changed]


def test_merges_racing_other_writes_lose_no_change(app, client, user):
    """A merge reads the task, then writes guarded by the version it read: a write landing in
    between makes it merge again onto the newer task, so no change is lost. Ten threads each
    move the due date's time to a minute of their own while ten rename the task."""
    task = create(client, user, due=written(ZONED))
    url = f"{tasks_url(user)}/{task['id']}"

    turns = iter(range(20))

    def write(client):
        k = next(turns)
        if k % 2:
            return client.patch(url, json={"title": f"title {k}"}, headers=user["headers"])
        body = {"due": {"time": f"10:{k:02d}"}}
        return client.patch(url, json=body, headers=user["headers"])

    answers = at_once(app, 20, write)
    assert [answer.status_code for answer in answers] == [200] * 20
    bodies = [answer.get_json() for answer in answers]
    final = client.get(url, headers=user["headers"]).get_json()
    assert sorted(body["version"] for body in bodies) == list(range(2, 22))  # each once
    assert final["version"] == 21
    # Titles never touch the due date: it is what the last merge made of it, and that merge
    # kept the date and zone it read.
    *_, last_merge = sorted((b for b in bodies if b["due"]["time"] != "18:30"), key=version)
    assert final["due"] == last_merge["due"]
    assert (final["due"]["date"], final["due"]["timezone"]) == ("2026-12-24", "Europe/Paris")
    *_, last_rename = sorted((b for b in bodies if b["title"] != "task"), key=version)
    assert final["title"] == last_rename["title"]


def version(body: dict) -> int:
    return body["version"]
