"""Your data goes where you go: every task shape the API holds, exported (JSON, iCalendar,
CSV) and imported into a fresh account, reads back equal on every field the format carries;
imports are previewed, applied all or nothing in one change of the feed, and a second import
of the same file creates nothing."""

import uuid

import pytest
from sqlalchemy import select

from tests.conftest import assert_problem
from tests.test_due import create, listed, patch
from todo.extensions import db
from todo.tasks.models import tasks

# Every shape a task can take: the three due forms (with DST edges), the supported rules,
# reminders before and at, priorities, labels, completed and open, a roll-over's history.
SHAPES = [
    {"title": "Plain", "description": 'Milk, eggs\nand bread; "quoted", comma'},
    {"title": "All day", "due": {"date": "2026-03-29"}, "priority": 1, "labels": ["home"]},
    {
        "title": "Floating",
        "due": {"date": "2026-10-25", "time": "02:30"},
        "reminders": [{"before": "PT0S"}],
        "priority": 2,
    },
    {
        "title": "In Paris's DST gap",
        "due": {"date": "2026-03-29", "time": "02:30", "timezone": "Europe/Paris"},
        "reminders": [{"before": "PT15M"}, {"at": "2026-03-28T10:00:00.000000Z"}],
        "priority": 3,
        "labels": ["work", "Zürich"],
    },
    {
        "title": "In New York's DST overlap",
        "due": {"date": "2026-11-01", "time": "01:30", "timezone": "America/New_York"},
        "reminders": [{"before": "P1DT2H"}],
    },
    {
        "title": "Weekly",
        "due": {"date": "2026-12-07"},
        "recurrence": {"rule": "FREQ=WEEKLY;BYDAY=MO,TH"},
    },
    {
        "title": "Last weekday of the month",
        "due": {"date": "2026-12-31", "time": "18:00", "timezone": "Asia/Tokyo"},
        "recurrence": {"rule": "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"},
    },
    {
        "title": "Every 3 days, 10 times",
        "due": {"date": "2026-12-08", "time": "07:15"},
        "recurrence": {"rule": "FREQ=DAILY;INTERVAL=3;COUNT=10"},
    },
    {
        "title": "Yearly until",
        "due": {"date": "2026-02-28", "time": "23:30", "timezone": "America/Los_Angeles"},
        "recurrence": {"rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1;UNTIL=20300301"},
    },
    {
        "title": "After each completion",
        "due": {"date": "2026-12-09"},
        "recurrence": {"rule": "FREQ=WEEKLY;INTERVAL=2", "from": "completion"},
    },
    {"title": "Done", "completed": True, "labels": ["=SUM(A1)", "-minus"]},
    {"title": '=HYPERLINK("http://x")', "description": "+1 @home\ttab"},
]


def carried(task: dict, fields: tuple[str, ...]) -> dict:
    """What of a task a format carries, in a form two accounts can compare."""
    values = {name: task[name] for name in fields if name not in ("due", "recurrence", "reminders")}
    if "due" in fields:
        values["due"] = task["due"]
    if "recurrence" in fields:
        rule = task["recurrence"]
        values["recurrence"] = rule and (
            dict(part.split("=") for part in rule["rule"].split(";")),
            rule["from"],
        )
    if "reminders" in fields:
        values["reminders"] = [(r["before"], r["at"], r["remind_at"]) for r in task["reminders"]]
    return values


ICS_FIELDS = (
    *("id", "title", "description", "completed", "priority", "due", "recurrence"),
    *("reminders", "labels", "parent_id"),
)
CSV_FIELDS = (*ICS_FIELDS, "position")
JSON_FIELDS = (*CSV_FIELDS, "list_id")


@pytest.fixture
def account(client, user):
    return with_every_shape(client, user)


def with_every_shape(client, user):
    """`user`, with tasks in every shape, one of them a subtask and one rolled over once,
    one in a list; their zone is Europe/Paris."""
    zone = client.patch("/api/auth/me", json={"timezone": "Europe/Paris"}, headers=user["headers"])
    assert zone.status_code == 200, zone.get_json()
    listed_in = client.post(
        f"/api/{user['user_id']}/lists", json={"name": "Trip"}, headers=user["headers"]
    ).get_json()
    made = [create(client, user, **shape) for shape in SHAPES]
    create(client, user, title="A subtask", parent_id=made[3]["id"], priority=1)
    create(client, user, title="In the list", list_id=listed_in["id"])
    rolled = client.patch(
        f"/api/{user['user_id']}/tasks/{made[5]['id']}/complete", headers=user["headers"]
    )
    assert rolled.status_code == 200 and rolled.get_json()["recurrence"]["completed_count"] == 1
    assert patch(client, user, made[0]["id"], {"position": "a0V"}).status_code == 200
    return user


def exported(client, user, path: str, **query):
    answer = client.get(
        f"/api/{user['user_id']}/{path}", query_string=query, headers=user["headers"]
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer


def imported(client, user, body: bytes, content_type: str, preview=False, **query):
    path = "imports/preview" if preview else "imports"
    return client.post(
        f"/api/{user['user_id']}/{path}",
        data=body,
        content_type=content_type,
        query_string=query,
        headers=user["headers"],
    )


def by_id(tasks: list[dict], fields) -> dict:
    return {task["id"]: carried(task, fields) for task in tasks}


FORMATS = {
    "json": ("export", "application/json", JSON_FIELDS),
    "icalendar": ("export/calendar", "text/calendar", ICS_FIELDS),
    "csv": ("export/csv", "text/csv", CSV_FIELDS),
}


@pytest.mark.parametrize("kind", FORMATS)
def test_every_task_shape_reads_back_equal_in_a_fresh_account(client, account, other_user, kind):
    path, content_type, fields = FORMATS[kind]
    zone = {"timezone": "Europe/Paris"}
    assert client.patch("/api/auth/me", json=zone, headers=other_user["headers"]).status_code == 200
    body = exported(client, account, path).data
    answer = imported(client, other_user, body, content_type)
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()
    assert report["applied"] and report["problems"] == []
    assert report["counts"]["created"] == len(SHAPES) + 2
    before, after = listed(client, account), listed(client, other_user)
    if kind != "json":  # the list a task is in is the import's to choose
        before = [{**task, "list_id": None} for task in before]
    assert by_id(after, fields) == by_id(before, fields)


@pytest.mark.parametrize("kind", FORMATS)
def test_a_second_import_of_the_same_file_creates_nothing(client, account, other_user, kind):
    path, content_type, _ = FORMATS[kind]
    body = exported(client, account, path).data
    first = imported(client, other_user, body, content_type)
    assert first.status_code == 200, first.get_json()
    count = len(listed(client, other_user))
    again = imported(client, other_user, body, content_type).get_json()
    assert again["counts"]["created"] == 0 and again["applied"]
    assert len(listed(client, other_user)) == count


def test_a_preview_writes_nothing_and_says_what_an_import_would_do(client, account, other_user):
    body = exported(client, account, "export/calendar").data
    preview = imported(client, other_user, body, "text/calendar", preview=True)
    assert preview.status_code == 200, preview.get_json()
    report = preview.get_json()
    assert not report["applied"] and report["counts"]["created"] == len(SHAPES) + 2
    assert {task["title"] for task in report["created"]} >= {"Plain", "A subtask"}
    assert listed(client, other_user) == []


def test_an_import_is_one_change_of_the_feed(app, client, account, other_user):
    feed = f"/api/{other_user['user_id']}/changes"
    since = client.get(feed, headers=other_user["headers"]).get_json()["next"]
    body = exported(client, account, "export/csv").data
    assert imported(client, other_user, body, "text/csv").status_code == 200
    changes = client.get(feed, query_string={"since": since}, headers=other_user["headers"])
    assert len(changes.get_json()["tasks"]) == len(SHAPES) + 2
    owner = uuid.UUID(other_user["user_id"])
    with app.app_context():
        numbers = db.session.scalars(
            select(tasks.c.change_number).where(tasks.c.user_id == owner).distinct()
        ).all()
    assert len(numbers) == 1


def test_an_import_into_a_chosen_list(client, account, other_user):
    chosen = client.post(
        f"/api/{other_user['user_id']}/lists",
        json={"name": "Imported"},
        headers=other_user["headers"],
    ).get_json()
    body = exported(client, account, "export/calendar").data
    answer = imported(client, other_user, body, "text/calendar", list_id=chosen["id"])
    assert answer.status_code == 200, answer.get_json()
    assert {task["list_id"] for task in listed(client, other_user)} == {chosen["id"]}


def test_an_import_into_no_list_of_the_users_is_404(client, account, other_user):
    body = exported(client, account, "export/calendar").data
    answer = imported(client, other_user, body, "text/calendar", list_id=str(uuid.uuid4()))
    assert_problem(answer, 404)
    assert listed(client, other_user) == []


@pytest.mark.parametrize("path", ["export", "export/calendar", "export/csv"])
def test_an_export_with_a_revoked_token_is_401_before_anything_is_sent(client, user, path):
    """A stream cannot turn into a 401 once it has started: the token is checked first (the
    filtered exports answered 200 and a cut body after a logout)."""
    assert client.post("/api/auth/logout", headers=user["headers"]).status_code == 204
    answer = client.get(f"/api/{user['user_id']}/{path}", headers=user["headers"])
    assert_problem(answer, 401)


def counted(client, user, **query) -> int:
    """The X-Total-Count the list answers (from the user's counters, with no filter or
    `completed` alone)."""
    answer = client.get(
        f"/api/{user['user_id']}/tasks", query_string=query, headers=user["headers"]
    )
    return int(answer.headers["X-Total-Count"])


def test_an_import_is_counted_as_creates_are(client, user):
    """The tasks an import writes at once are counted once for all (migration 0022): the
    user's counters, each parent's subtasks (a new parent's and one the user had), the
    completion history of those imported done."""
    had = create(client, user, title="Had")
    calendar = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        + "".join(
            f"BEGIN:VTODO\r\nUID:{uid}\r\nSUMMARY:{uid}\r\n{extra}END:VTODO\r\n"
            for uid, extra in [
                ("parent", ""),
                ("done child", "STATUS:COMPLETED\r\nRELATED-TO:parent\r\n"),
                ("open child", "RELATED-TO:parent\r\nCATEGORIES:Home,work\r\n"),
                ("child of had", f"STATUS:COMPLETED\r\nRELATED-TO:{had['id']}\r\n"),
            ]
        )
        + "END:VCALENDAR\r\n"
    )
    report = imported(client, user, calendar.encode(), "text/calendar")
    assert report.status_code == 200, report.get_json()
    assert report.get_json()["counts"]["created"] == 4
    tasks = {task["title"]: task for task in listed(client, user)}
    assert counted(client, user) == len(tasks) == 5
    assert counted(client, user, completed="true") == 2
    assert tasks["parent"]["subtasks"] == {"total": 2, "completed": 1}
    assert tasks["Had"]["subtasks"] == {"total": 1, "completed": 1}
    assert tasks["open child"]["labels"] == ["Home", "work"]
    labels = client.get(f"/api/{user['user_id']}/labels", headers=user["headers"]).get_json()
    assert [label["name"] for label in labels] == ["Home", "work"]
    history = client.get(f"/api/{user['user_id']}/completions", headers=user["headers"])
    assert sorted(entry["title"] for entry in history.get_json()) == [
        "child of had",
        "done child",
    ]
    trashed = client.delete(
        f"/api/{user['user_id']}/tasks/{tasks['done child']['id']}", headers=user["headers"]
    )
    assert trashed.status_code == 204
    assert counted(client, user) == 4 and counted(client, user, completed="true") == 1
    assert listed(client, user, q="parent")[0]["subtasks"] == {"total": 1, "completed": 0}


def test_a_file_naming_one_task_twice_is_refused(client, user):
    body = "id,title\r\nsame,first\r\nsame,second\r\n"
    answer = imported(client, user, body.encode(), "text/csv")
    assert answer.status_code == 422 and answer.get_json()["type"] == "/problems/import-rejected"
    problems = answer.get_json()["problems"]
    assert [(each["where"], each["field"]) for each in problems] == [("line 3", "id")]
    assert listed(client, user) == []


def test_twenty_thousand_tasks_are_imported_in_one_change(client, user, database_kind):
    """The most an import takes, at once (one at a time, 20,000 creates took a statement
    past its bound on PostgreSQL); again, it writes nothing."""
    if database_kind != "postgresql":
        pytest.skip("PostgreSQL's alone: where the counters' row kept its versions; slow")
    rows = "".join(
        f"Task {n},2027-01-{n % 28 + 1:02d},{n % 4},{n % 5 == 0}\r\n" for n in range(20_000)
    )
    body = ("title,due_date,priority,completed\r\n" + rows).encode()
    answer = imported(client, user, body, "text/csv")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["counts"]["created"] == 20_000
    assert counted(client, user) == 20_000 and counted(client, user, completed="true") == 4_000
    again = imported(client, user, body, "text/csv").get_json()
    assert again["counts"]["unchanged"] == 20_000 and again["counts"]["created"] == 0


def test_a_task_the_user_has_is_updated_even_under_a_task_the_file_brings(client, user):
    """A second file moves a task it gave before under a new one: the new task is written
    first, then the update; a task as the file has it is left alone."""
    socks, pack, hat = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first = f"id,title\r\n{socks},Socks\r\n{hat},Hat\r\n"
    assert imported(client, user, first.encode(), "text/csv").status_code == 200
    second = f"id,title,parent_id\r\n{socks},Socks,{pack}\r\n{pack},Pack,\r\n{hat},Hat,\r\n"
    answer = imported(client, user, second.encode(), "text/csv")
    assert answer.status_code == 200, answer.get_json()
    counts = answer.get_json()["counts"]
    assert (counts["created"], counts["updated"], counts["unchanged"]) == (1, 1, 1)
    tasks = {task["title"]: task for task in listed(client, user)}
    assert tasks["Socks"]["parent_id"] == str(pack)
    assert tasks["Pack"]["subtasks"] == {"total": 1, "completed": 0}
