"""Recurring tasks (roll-overs, undo, rules used up, retry-safe completions), the completion
history, and reminders."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import assert_problem
from tests.test_due import create, listed, patch, tasks_url
from tests.test_occurrences import PATHOLOGICAL
from tests.threads import at_once


def complete(client, user, task_id, **body):
    answer = client.patch(
        f"{tasks_url(user)}/{task_id}/complete", json=body or None, headers=user["headers"]
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def history(client, user, **query) -> list[dict]:
    answer = client.get(
        f"/api/{user['user_id']}/completions", query_string=query, headers=user["headers"]
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def today_in(zone_name="UTC") -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(zone_name)).date()


def test_weekly_at_nine_in_paris_keeps_nine_across_the_dst_change(client, user):
    due = {"date": "2027-03-25", "time": "09:00", "timezone": "Europe/Paris"}
    task = create(client, user, due=due, recurrence={"rule": "FREQ=WEEKLY"})
    assert task["due"]["at"] == "2027-03-25T08:00:00.000000Z"  # CET
    rolled = complete(client, user, task["id"])
    assert rolled["completed"] is False and rolled["completed_at"] is None
    assert rolled["due"] == {**due, "date": "2027-04-01", "at": "2027-04-01T07:00:00.000000Z"}
    assert rolled["recurrence"]["completed_count"] == 1
    assert rolled["recurrence"]["last_completed_at"] is not None
    [entry] = history(client, user)
    assert (entry["task_id"], entry["occurrence"]) == (task["id"], "2027-03-25")


def test_an_overdue_daily_task_completed_late_is_due_tomorrow_not_in_the_past(client, user):
    three_days_ago = today_in() - timedelta(days=3)
    task = create(
        client, user, due={"date": str(three_days_ago)}, recurrence={"rule": "FREQ=DAILY"}
    )
    rolled = complete(client, user, task["id"], completed=True)
    assert rolled["due"]["date"] == str(today_in() + timedelta(days=1))


def test_the_users_zone_decides_today_for_an_all_day_roll_over(client, user):
    zone_name = "Pacific/Kiritimati"
    client.patch("/api/auth/me", json={"timezone": zone_name}, headers=user["headers"])
    task = create(
        client, user, due={"date": str(today_in(zone_name))}, recurrence={"rule": "FREQ=DAILY"}
    )
    rolled = complete(client, user, task["id"])
    assert rolled["due"]["date"] == str(today_in(zone_name) + timedelta(days=1))


@pytest.mark.parametrize(
    ("rule", "first", "then"),
    [
        ("FREQ=MONTHLY", "2027-01-31", "2027-03-31"),  # no February 31st
        ("FREQ=YEARLY", "2028-02-29", "2032-02-29"),  # the next leap year
        ("FREQ=WEEKLY;BYDAY=MO,TH", "2027-01-04", "2027-01-07"),
        ("FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1", "2027-01-29", "2027-02-26"),  # last Friday
    ],
)
def test_calendar_rules_follow_rfc_5545(client, user, rule, first, then):
    task = create(client, user, due={"date": first}, recurrence={"rule": rule})
    assert complete(client, user, task["id"])["due"]["date"] == then


def test_a_rule_used_up_completes_the_task_for_real(client, user):
    tomorrow = today_in() + timedelta(days=1)
    task = create(
        client, user, due={"date": str(tomorrow)}, recurrence={"rule": "FREQ=DAILY;COUNT=2"}
    )
    rolled = complete(client, user, task["id"])
    assert rolled["completed"] is False and rolled["due"]["date"] == str(tomorrow + timedelta(1))
    done = complete(client, user, task["id"])
    assert done["completed"] is True and done["completed_at"] is not None
    assert done["recurrence"]["completed_count"] == 2
    assert [entry["occurrence"] for entry in history(client, user)] == [
        str(tomorrow + timedelta(1)),
        str(tomorrow),
    ]
    reopened = complete(client, user, task["id"], completed=False)
    assert reopened["completed"] is False and reopened["recurrence"]["completed_count"] == 1
    assert len(history(client, user)) == 1


def test_from_completion_counts_the_interval_from_the_day_it_was_done(client, user):
    due = {"date": "2027-06-01", "time": "07:30"}
    task = create(
        client, user, due=due, recurrence={"rule": "FREQ=DAILY;INTERVAL=3", "from": "completion"}
    )
    rolled = complete(client, user, task["id"])
    expected = {**due, "date": str(today_in() + timedelta(days=3)), "timezone": None, "at": None}
    assert rolled["due"] == expected
    assert rolled["recurrence"]["from"] == "completion"


@pytest.mark.parametrize(
    "recurrence",
    [
        {"rule": "FREQ=HOURLY"},
        {"rule": "FREQ=DAILY;BYHOUR=9"},
        {"rule": "FREQ=YEARLY;BYWEEKNO=20"},
        {"rule": "FREQ=YEARLY;BYYEARDAY=100"},
        {"rule": "FREQ=DAILY;COUNT=0"},
        {"rule": "FREQ=DAILY;COUNT=1001"},
        {"rule": "FREQ=DAILY;INTERVAL=1000"},
        {"rule": "FREQ=DAILY;COUNT=3;UNTIL=20271231"},
        {"rule": "FREQ=DAILY;UNTIL=2027-12-31"},
        {"rule": "FREQ=WEEKLY;BYDAY=XX"},
        {"rule": "INTERVAL=2"},
        {"rule": "every monday"},
        {"rule": "FREQ=WEEKLY;BYDAY=MO", "from": "completion"},
        {"rule": "FREQ=DAILY", "from": "whenever"},
        {"rule": "FREQ=DAILY", "completed_count": 3},
        {"from": "due"},
    ],
)
def test_a_rule_this_api_does_not_take_is_422(client, user, recurrence):
    refused_on(client, user, "recurrence", recurrence)


@pytest.mark.parametrize("rule", [*PATHOLOGICAL, "FREQ=YEARLY;INTERVAL=15;BYMONTH=2;BYMONTHDAY=29"])
def test_a_rule_without_an_occurrence_in_ten_years_is_422(client, user, rule):
    """Each of these once cost every completion seconds of CPU (dateutil walked to 9999)."""
    refused_on(client, user, "recurrence", {"rule": rule})


def test_a_due_date_moved_where_the_rule_has_no_occurrence_is_422(client, user):
    every_tuesday = {"rule": "FREQ=DAILY;INTERVAL=7;BYDAY=TU"}
    tuesday = create(client, user, due={"date": "2027-01-05"}, recurrence=every_tuesday)
    answer = patch(client, user, tuesday["id"], {"due": {"date": "2027-01-06"}})
    assert list(assert_problem(answer, 422)["errors"]) == ["recurrence"]
    assert complete(client, user, tuesday["id"])["due"]["date"] == "2027-01-12"


def refused_on(client, user, field: str, value) -> None:
    """A dated task with `field` set to `value` is refused, 422 on that field (or in it)."""
    answer = client.post(
        tasks_url(user),
        json={"title": "x", "due": {"date": "2027-01-01"}, field: value},
        headers=user["headers"],
    )
    errors = assert_problem(answer, 422)["errors"]
    assert [path.split(".")[0] for path in errors] == [field], errors
    assert listed(client, user) == []


def test_a_recurrence_needs_a_due_date(client, user):
    answer = client.post(
        tasks_url(user),
        json={"title": "x", "recurrence": {"rule": "FREQ=DAILY"}},
        headers=user["headers"],
    )
    assert "recurrence" in assert_problem(answer, 422)["errors"]
    task = create(client, user, due={"date": "2027-01-01"}, recurrence={"rule": "FREQ=DAILY"})
    assert (
        "recurrence"
        in assert_problem(patch(client, user, task["id"], {"due": None}), 422)["errors"]
    )
    cleared = patch(client, user, task["id"], {"due": None, "recurrence": None})
    assert cleared.status_code == 200 and cleared.get_json()["recurrence"] is None


def test_a_retried_occurrence_completion_rolls_over_once(app, client, user):
    """50 clients complete the same occurrence at once: one roll-over, one history entry; the
    others are answered the task as it is then, with its ETag."""
    task = create(client, user, due={"date": "2027-01-04"}, recurrence={"rule": "FREQ=DAILY"})
    url = f"{tasks_url(user)}/{task['id']}/complete"
    body = {"completed": True, "occurrence": "2027-01-04"}
    answers = at_once(app, 50, lambda c: c.patch(url, json=body, headers=user["headers"]))
    assert [answer.status_code for answer in answers] == [200] * 50
    assert {answer.get_json()["due"]["date"] for answer in answers} == {"2027-01-05"}
    assert len({answer.headers["ETag"] for answer in answers}) == 1
    assert len(history(client, user)) == 1
    final = client.get(f"{tasks_url(user)}/{task['id']}", headers=user["headers"]).get_json()
    assert final["recurrence"]["completed_count"] == 1


def test_bare_toggles_at_once_each_roll_over_in_turn(app, client, user):
    start = today_in() + timedelta(days=1)
    task = create(client, user, due={"date": str(start)}, recurrence={"rule": "FREQ=DAILY"})
    url = f"{tasks_url(user)}/{task['id']}/complete"
    answers = at_once(app, 50, lambda c: c.patch(url, headers=user["headers"]))
    assert [answer.status_code for answer in answers] == [200] * 50
    dates = sorted(answer.get_json()["due"]["date"] for answer in answers)
    assert dates == [str(start + timedelta(days=n)) for n in range(1, 51)]
    entries = history(client, user, limit=100)
    assert sorted(entry["occurrence"] for entry in entries) == [
        str(start + timedelta(days=n)) for n in range(50)
    ]
    final = client.get(f"{tasks_url(user)}/{task['id']}", headers=user["headers"]).get_json()
    assert final["recurrence"]["completed_count"] == 50 and final["completed"] is False


def test_completed_false_undoes_the_last_roll_over(client, user):
    task = create(client, user, due={"date": "2027-01-04"}, recurrence={"rule": "FREQ=DAILY"})
    complete(client, user, task["id"])
    second = complete(client, user, task["id"])
    assert second["due"]["date"] == "2027-01-06"
    undone = complete(client, user, task["id"], completed=False)
    assert undone["due"]["date"] == "2027-01-05" and undone["completed"] is False
    assert undone["recurrence"]["completed_count"] == 1
    assert [entry["occurrence"] for entry in history(client, user)] == ["2027-01-04"]
    complete(client, user, task["id"], completed=False)
    final = complete(client, user, task["id"], completed=False)  # nothing left to undo
    assert final["due"]["date"] == "2027-01-04"
    assert final["recurrence"]["completed_count"] == 0
    assert history(client, user) == []


def test_the_history_keeps_each_completion_as_it_was(client, user):
    first = create(client, user, "water plants")
    other = create(client, user, "other")
    complete(client, user, first["id"])
    patch(client, user, first["id"], {"title": "renamed"})
    complete(client, user, other["id"])
    entries = history(client, user)
    assert [(e["title"], e["task_id"]) for e in entries] == [
        ("other", other["id"]),
        ("water plants", first["id"]),
    ]
    assert set(entries[0]) == {
        *("id", "task_id", "title", "completed_at", "completed_by", "occurrence"),
    }
    complete(client, user, other["id"])  # reopened: its entry goes
    assert [e["task_id"] for e in history(client, user)] == [first["id"]]
    assert history(client, user, task_id=other["id"]) == []
    today = str(today_in())
    assert len(history(client, user, **{"from": today, "to": today, "tz": "UTC"})) == 1
    assert history(client, user, to=str(today_in() - timedelta(days=1))) == []


def test_the_history_pages_newest_first(client, user):
    task = create(client, user, due={"date": "2027-01-04"}, recurrence={"rule": "FREQ=DAILY"})
    for _ in range(7):
        complete(client, user, task["id"])
    url, seen = f"/api/{user['user_id']}/completions?limit=3", []
    while url:
        answer = client.get(url, headers=user["headers"])
        seen += [entry["occurrence"] for entry in answer.get_json()]
        link = answer.headers.get("Link")
        url = link[len("<http://localhost") : link.index(">")] if link else None
    assert seen == [str(date(2027, 1, 10) - timedelta(days=n)) for n in range(7)]


def test_the_history_is_the_users_own(client, user, other_user):
    answer = client.get(f"/api/{user['user_id']}/completions", headers=other_user["headers"])
    assert_problem(answer, 403)
    assert_problem(client.get(f"/api/{user['user_id']}/completions"), 401)
    assert_problem(
        client.get(
            f"/api/{user['user_id']}/completions",
            query_string={"cursor": "x"},
            headers=user["headers"],
        ),
        400,
    )


def test_reminders_fall_before_each_kind_of_due_date(client, user):
    zoned = create(
        client,
        user,
        due={"date": "2027-01-10", "time": "09:00", "timezone": "Europe/Paris"},
        reminders=[{"before": "PT15M"}, {"at": "2027-01-09T20:00:00+01:00"}],
    )
    assert zoned["reminders"] == [
        {"before": "PT15M", "at": None, "remind_at": "2027-01-10T07:45:00.000000Z"},
        {
            "before": None,
            "at": "2027-01-09T19:00:00.000000Z",
            "remind_at": "2027-01-09T19:00:00.000000Z",
        },
    ]
    floating = create(
        client, user, due={"date": "2027-01-10", "time": "09:00"}, reminders=[{"before": "PT1H"}]
    )
    assert floating["reminders"][0]["remind_at"] is None  # no zone yet: no instant
    client.patch("/api/auth/me", json={"timezone": "Asia/Tokyo"}, headers=user["headers"])
    placed = client.get(f"{tasks_url(user)}/{floating['id']}", headers=user["headers"])
    assert placed.get_json()["reminders"][0]["remind_at"] == "2027-01-09T23:00:00.000000Z"
    assert placed.get_json()["version"] == floating["version"] + 1  # and in the feed
    all_day = create(client, user, due={"date": "2027-01-10"}, reminders=[{"before": "P1D"}])
    assert all_day["reminders"][0]["remind_at"] == "2027-01-08T15:00:00.000000Z"
    moved = patch(client, user, floating["id"], {"due": {"time": "10:00"}}).get_json()
    assert moved["reminders"][0]["remind_at"] == "2027-01-10T00:00:00.000000Z"


def test_relative_reminders_move_with_a_roll_over(client, user):
    task = create(
        client,
        user,
        due={"date": "2027-01-04", "time": "08:00", "timezone": "UTC"},
        recurrence={"rule": "FREQ=DAILY"},
        reminders=[{"before": "PT30M"}, {"at": "2027-01-01T00:00:00Z"}],
    )
    rolled = complete(client, user, task["id"])
    assert [r["remind_at"] for r in rolled["reminders"]] == [
        "2027-01-05T07:30:00.000000Z",
        "2027-01-01T00:00:00.000000Z",
    ]


@pytest.mark.parametrize(
    "reminders",
    [
        [{"before": "PT15M"}] * 6,
        [{"before": "P29D"}],
        [{"before": "15 minutes"}],
        [{"before": "PT"}],
        [{"before": "PT15M", "at": "2027-01-01T00:00:00Z"}],
        [{}],
        [{"at": "2027-01-01T00:00:00"}],
        [{"before": "PT99999999999999999999S"}],  # past timedelta's range: was a 500
        [{"at": "9999-12-31T23:59:59-14:00"}],  # year 10000 in UTC: was a 500
    ],
)
def test_reminders_this_api_does_not_take_are_422(client, user, reminders):
    refused_on(client, user, "reminders", reminders)


def test_a_reminder_before_the_due_date_needs_one(client, user):
    answer = client.post(
        tasks_url(user),
        json={"title": "x", "reminders": [{"before": "PT5M"}]},
        headers=user["headers"],
    )
    assert "reminders" in assert_problem(answer, 422)["errors"]


def test_a_seed_shaped_put_keeps_recurrence_and_reminders(client, user):
    task = create(
        client,
        user,
        due={"date": "2027-01-04"},
        recurrence={"rule": "FREQ=DAILY"},
        reminders=[{"before": "PT1H"}],
    )
    answer = client.put(
        f"{tasks_url(user)}/{task['id']}", json={"title": "seed"}, headers=user["headers"]
    )
    replaced = answer.get_json()
    assert replaced["recurrence"] == task["recurrence"]
    assert replaced["reminders"] == task["reminders"]
    assert replaced["due"] == task["due"]
