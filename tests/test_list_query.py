"""The list's query: every sort walked page by page with keyset cursors, filters, headers."""

import re
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from todo.extensions import db
from todo.tasks import due
from todo.tasks.listing import SORTS
from todo.tasks.models import Task

START = datetime(2026, 1, 1, tzinfo=UTC)


def due_of(n: int) -> dict:
    """No due date, or each form in turn, on dates and times shared by groups of tasks; the
    zoned ones at 09:00 in Paris, which is 08:00 UTC: between the all-day date and the
    floating 09:00 of the same day."""
    day = START.date() + timedelta(days=n // 10)
    form = n % 5
    if form == 0:
        return due.columns(None)
    if form in (1, 4):
        return due.columns(day)
    if form == 2:
        return due.columns(day, time(9, 0))
    return due.columns(day, time(9, 0), "Europe/Paris")


@pytest.fixture
def many_tasks(app, user):
    """250 tasks, written straight to the database: timestamps shared by groups of 5, titles
    by groups of 3, priorities by groups of 7 and due dates by groups of 10, so only the id
    can break ties. Every 4th one is done."""
    owner = uuid.UUID(user["user_id"])
    with app.app_context():
        for n in range(250):
            done = n % 4 == 0
            db.session.add(
                Task(
                    user_id=owner,
                    created_by=owner,
                    updated_by=owner,
                    title=f"task {n // 3:03d}",
                    description="groceries" if n % 10 == 0 else None,
                    completed=done,
                    created_at=START + timedelta(minutes=n // 5),
                    updated_at=START + timedelta(hours=1, minutes=(250 - n) // 5),
                    completed_at=START + timedelta(hours=2, minutes=n // 8) if done else None,
                    priority=(n // 7) % 4,
                    **due_of(n),
                )
            )
        db.session.commit()
        return db.session.query(Task).filter_by(user_id=owner).all()


def due_key_in_utc(task) -> str:
    """Where the due order puts a task in UTC (docs/dates.md)."""
    if task.due_date is None:
        return "~"
    if task.due_at is not None:
        return task.due_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if task.due_time is None:
        return task.due_date.isoformat()
    return f"{task.due_date.isoformat()} {task.due_time.isoformat()}"


SORT_KEYS = {
    "due": due_key_in_utc,
    "completed_at": lambda task: task.completed_at or due.END_OF_TIME,
}


def expected_ids(tasks, sort):
    column = sort.lstrip("-")
    key = SORT_KEYS.get(column) or (lambda task: getattr(task, column))
    ordered = sorted(tasks, key=lambda task: (key(task), task.id))
    if sort.startswith("-"):
        ordered.reverse()
    return [str(task.id) for task in ordered]


def walk(client, user, url):
    """Follow rel="next" links from `url`; returns every page's ids and the last answer."""
    pages = []
    while url:
        answer = client.get(url, headers=user["headers"])
        assert answer.status_code == 200, answer.get_json()
        pages.append([task["id"] for task in answer.get_json()])
        link = answer.headers.get("Link")
        url = re.fullmatch(r'<http://localhost(.+)>; rel="next"', link).group(1) if link else None
    return pages, answer


@pytest.mark.parametrize("sort", SORTS)
def test_pages_of_every_sort_join_into_the_whole_ordered_list(client, user, many_tasks, sort):
    pages, last = walk(client, user, f"/api/{user['user_id']}/tasks?sort={sort}&limit=7")
    assert [len(page) for page in pages] == [7] * 35 + [5]
    assert [task_id for page in pages for task_id in page] == expected_ids(many_tasks, sort)
    assert last.headers["X-Total-Count"] == "250"
    assert "Link" not in last.headers


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("completed=true", lambda task: task.completed),
        ("completed=false", lambda task: not task.completed),
        ("q=GROCERIES", lambda task: task.description == "groceries"),
        ("q=task 01", lambda task: task.title.startswith("task 01")),
        ("completed=true&q=groceries", lambda task: task.completed and task.description),
    ],
)
def test_filters_hold_across_pages(client, user, many_tasks, query, keep):
    wanted = [task for task in many_tasks if keep(task)]
    url = f"/api/{user['user_id']}/tasks?{query}&sort=-updated_at&limit=7"
    pages, last = walk(client, user, url)
    assert [task_id for page in pages for task_id in page] == expected_ids(wanted, "-updated_at")
    assert last.headers["X-Total-Count"] == str(len(wanted))


def test_default_list_is_100_oldest_first_with_a_next_link(client, user, many_tasks):
    answer = client.get(f"/api/{user['user_id']}/tasks", headers=user["headers"])
    assert [task["id"] for task in answer.get_json()] == expected_ids(many_tasks, "created_at")[
        :100
    ]
    assert answer.headers["X-Total-Count"] == "250"
    assert 'rel="next"' in answer.headers["Link"]


def test_search_treats_wildcards_literally(client, user):
    url = f"/api/{user['user_id']}/tasks"
    for title in ["100% done", "100 done"]:
        client.post(url, json={"title": title}, headers=user["headers"])
    answer = client.get(f"{url}?q=0%25", headers=user["headers"])
    assert [task["title"] for task in answer.get_json()] == ["100% done"]


def test_a_short_first_page_counts_the_filtered_tasks(client, user, many_tasks):
    answer = client.get(
        f"/api/{user['user_id']}/tasks?q=groceries&completed=true&limit=500",
        headers=user["headers"],
    )
    expected = [task for task in many_tasks if task.completed and task.description]
    assert len(answer.get_json()) == len(expected) > 0
    assert answer.headers["X-Total-Count"] == str(len(expected))
    assert "Link" not in answer.headers


def test_empty_list_has_a_zero_count_and_no_link(client, user):
    answer = client.get(f"/api/{user['user_id']}/tasks", headers=user["headers"])
    assert answer.get_json() == []
    assert answer.headers["X-Total-Count"] == "0"
    assert "Link" not in answer.headers


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("sort=importance", "sort"),
        ("completed=yes", "completed"),
        ("completed=1", "completed"),
        ("q=", "q"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=WyJ0aXRsZSJd", "cursor"),
        ("page=2", "page"),
    ],
)
def test_bad_query_parameter_is_400_naming_it(client, user, query, field):
    answer = client.get(f"/api/{user['user_id']}/tasks?{query}", headers=user["headers"])
    assert answer.status_code == 400
    assert answer.content_type == "application/problem+json"
    assert list(answer.get_json()["errors"]) == [field]


def test_cursor_of_another_sort_is_400(client, user, many_tasks):
    url = f"/api/{user['user_id']}/tasks"
    link = client.get(f"{url}?sort=title&limit=5", headers=user["headers"]).headers["Link"]
    cursor = re.search(r"cursor=([^&>]+)", link).group(1)
    answer = client.get(f"{url}?sort=-title&cursor={cursor}", headers=user["headers"])
    assert answer.status_code == 400
    assert answer.get_json()["errors"] == {"cursor": ["This cursor belongs to another sort order."]}


def test_the_count_of_a_long_list_follows_every_change(client, user, stored_tasks):
    """Past one page, X-Total-Count comes from the user's counters (migration 0005's
    triggers): they must follow creates, toggles, PATCH and PUT of `completed`, moves to and
    from the trash, and purges."""
    tasks = f"/api/{user['user_id']}/tasks"
    ids = [
        client.post(tasks, json={"title": f"t{n}"}, headers=user["headers"]).get_json()["id"]
        for n in range(5)
    ]
    client.patch(f"{tasks}/{ids[0]}/complete", headers=user["headers"])
    client.patch(f"{tasks}/{ids[1]}/complete", headers=user["headers"])
    client.patch(f"{tasks}/{ids[1]}/complete", headers=user["headers"])  # undone again
    client.patch(f"{tasks}/{ids[2]}", json={"completed": True}, headers=user["headers"])
    client.put(f"{tasks}/{ids[3]}", json={"title": "x", "completed": True}, headers=user["headers"])
    client.delete(f"{tasks}/{ids[2]}", headers=user["headers"])  # to the trash: not counted
    client.delete(f"{tasks}/{ids[4]}", headers=user["headers"])
    client.post(f"{tasks}/{ids[4]}/restore", headers=user["headers"])  # counted again
    client.delete(f"{tasks}/{ids[1]}?purge=true", headers=user["headers"])
    stored = [task for task in stored_tasks() if task.deleted_at is None]
    for query, keep in [("", None), ("&completed=true", True), ("&completed=false", False)]:
        answer = client.get(f"{tasks}?limit=1{query}", headers=user["headers"])
        expected = [task for task in stored if keep is None or task.completed == keep]
        assert answer.headers["X-Total-Count"] == str(len(expected)), query
    assert [len(stored), sum(task.completed for task in stored)] == [3, 2]


def test_an_empty_query_answers_its_defaults_whatever_was_asked_before(client, user):
    """An empty query string's load is kept and copied per request (todo/blueprint.py): what
    one request does with its query never reaches the next."""
    url, headers = f"/api/{user['user_id']}/tasks", user["headers"]
    older = client.post(url, json={"title": "older"}, headers=headers).json
    newer = client.post(url, json={"title": "newer"}, headers=headers).json
    client.delete(f"{url}/{older['id']}", headers=headers)
    first = client.get(url, headers=headers)
    for query in ({"deleted": "true"}, {"sort": "-created_at", "overdue": "false"}, {}):
        assert client.get(url, query_string=query, headers=headers).status_code == 200
    again = client.get(url, headers=headers)
    assert [task["id"] for task in again.json] == [newer["id"]]
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]


def test_a_list_request_holds_one_connection_at_a_time(make_app, migrated_app, user):
    """Reads run outside the session unless it holds a connection already (the account read
    for the user's zone, or for an empty page): with one connection per worker, every list
    still answers (two at once would wait for the pool, then 503)."""
    options = {
        **migrated_app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        "pool_size": 1,
        "max_overflow": 0,
        "pool_timeout": 2,
    }
    client = make_app(SQLALCHEMY_ENGINE_OPTIONS=options).test_client()
    url, headers = f"/api/{user['user_id']}/tasks", user["headers"]
    for query in ({}, {"sort": "due"}, {"due_from": "2026-12-01", "tz": "Asia/Tokyo"}):
        assert client.get(url, query_string=query, headers=headers).status_code == 200  # empty
    client.post(url, json={"title": "one", "due": {"date": "2026-12-24"}}, headers=headers)
    for query in ({}, {"sort": "due"}, {"due_from": "2026-12-01"}):
        answer = client.get(url, query_string=query, headers=headers)
        assert answer.status_code == 200 and len(answer.json) == 1, answer.json
