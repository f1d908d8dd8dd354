"""Imports of hostile or broken files answer 4xx within bounded time, naming where, and write
nothing (a byte order mark anywhere but at the start of a CSV file, lines that do not all end
alike, among them); files that are merely unusual (Excel's byte order mark, line breaks in
quoted cells, all-LF calendars, events beside tasks, Todoist's template with what has no
place here) are read as they mean."""

import time

import orjson
import pytest

from tests.test_due import listed
from todo.portability.items import MOST_TASKS

HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
TAIL = "END:VCALENDAR\r\n"


def vtodo(uid: str, *lines: str) -> str:
    return "\r\n".join(["BEGIN:VTODO", f"UID:{uid}", "SUMMARY:task", *lines, "END:VTODO", ""])


def post(client, user, body, content_type, preview=False):
    path = "imports/preview" if preview else "imports"
    started = time.monotonic()
    answer = client.post(
        f"/api/{user['user_id']}/{path}",
        data=body if isinstance(body, bytes) else body.encode(),
        content_type=content_type,
        headers=user["headers"],
    )
    return answer, time.monotonic() - started


def refused(client, user, body, content_type, status=422) -> dict:
    """The import's answer: `status` within 2 s, and the user still has no task."""
    for preview in (True, False):
        answer, took = post(client, user, body, content_type, preview)
        problem = assert_problem_of(answer, status)
        assert took < 2, f"{took:.1f} s"
    assert listed(client, user) == []
    return problem


def assert_problem_of(answer, status):
    assert answer.status_code == status, answer.get_data(as_text=True)[:500]
    assert answer.content_type == "application/problem+json"
    return answer.get_json()


HOSTILE = {
    "deep JSON nesting": ("[" * 100_000 + "]" * 100_000, "application/json"),
    "JSON nested in a task": (
        orjson.dumps(
            {"format": "todo-export", "version": 1, "tasks": [{"title": [[[[[["x"]]]]]]}]}
        ).decode(),
        "application/json",
    ),
    "deep calendar nesting": (HEAD + "BEGIN:VTODO\r\n" * 50_000 + TAIL, "text/calendar"),
    "a million calendar lines": (HEAD + "X-A:b\r\n" * 1_000_000 + TAIL, "text/calendar"),
    "a million CSV rows": ("title\r\n" + "x\r\n" * 1_000_000, "text/csv"),
    "a 10 MiB calendar line": (
        HEAD + vtodo("1", "DESCRIPTION:" + "x" * (10 * 1024 * 1024 - 300)) + TAIL,
        "text/calendar",
    ),
    "a 10 MiB CSV line": ("title\r\n" + "x" * (10 * 1024 * 1024 - 100) + "\r\n", "text/csv"),
    "invalid UTF-8": (b"title\r\ncaf\xe9\r\n", "text/csv"),
    "recursive RELATED-TO": (
        HEAD
        + vtodo("a", "RELATED-TO;RELTYPE=PARENT:b")
        + vtodo("b", "RELATED-TO;RELTYPE=PARENT:a")
        + TAIL,
        "text/calendar",
    ),
    "a task its own parent": (HEAD + vtodo("a", "RELATED-TO:a") + TAIL, "text/calendar"),
    "RRULE with COUNT=10^9": (
        HEAD + vtodo("r", "DUE;VALUE=DATE:20261224", "RRULE:FREQ=DAILY;COUNT=1000000000") + TAIL,
        "text/calendar",
    ),
    "a TZID that does not exist": (
        HEAD + vtodo("z", "DUE;TZID=Mars/Olympus_Mons:20261224T100000") + TAIL,
        "text/calendar",
    ),
    "CSV injection": ("title,description\r\n=cmd|' /C calc'!A0,x\r\n", "text/csv"),
    "Todoist CSV injection": (
        'TYPE,CONTENT\r\ntask,"=HYPERLINK(""http://x"",""y"")"\r\n',
        "text/csv",
    ),
    "not a calendar": ("hello", "text/calendar"),
    "an END without its BEGIN": (HEAD + "END:VTODO\r\n" + TAIL, "text/calendar"),
    "a calendar of events only": (
        HEAD + "BEGIN:VEVENT\r\nUID:e\r\nSUMMARY:meeting\r\nEND:VEVENT\r\n" + TAIL,
        "text/calendar",
    ),
    "a CSV without a title column": ("name\r\nx\r\n", "text/csv"),
    "not our export": ('{"tasks": []}', "application/json"),
    "an export of another version": ('{"format": "todo-export", "version": 2}', "application/json"),
}
EXPORT = '{"format": "todo-export", "version": 1, "tasks": [{"title": "x"}]}'
# Where each file is refused: a byte order mark where it has no place, or a line that ends
# otherwise than the lines before it.
MISLEADING = {
    "a JSON file with a byte order mark": ("\ufeff" + EXPORT, "application/json", "line 1"),
    "a calendar with a byte order mark": (
        "\ufeff" + HEAD + vtodo("b") + TAIL,
        "text/calendar",
        "line 1",
    ),
    "U+FEFF inside a CSV file": ("\ufefftitle\r\nfirst\r\n\ufeffsecond\r\n", "text/csv", "line 3"),
    "U+FEFF inside a JSON file": (EXPORT.replace('"x"', '"\ufeffx"'), "application/json", "line 1"),
    "U+FEFF inside a calendar": (
        HEAD + vtodo("b", "DESCRIPTION:\ufeff") + TAIL,
        "text/calendar",
        "line 7",
    ),
    "a CSV file of CRLF records, one ending in LF": (
        'title,description\r\nfirst,"two\nlines"\nsecond,x\r\n',
        "text/csv",
        "line 3",
    ),
    "a CSV file of LF records, one ending in CRLF": (
        "title\nfirst\nsecond\r\n",
        "text/csv",
        "line 3",
    ),
    "a calendar of CRLF lines, one ending in LF": (
        HEAD + vtodo("m").replace("SUMMARY:task\r\n", "SUMMARY:task\n") + TAIL,
        "text/calendar",
        "line 6",
    ),
    "a calendar of LF lines, one ending in CRLF": (
        (HEAD + vtodo("m") + TAIL).replace("\r\n", "\n").replace("UID:m\n", "UID:m\r\n"),
        "text/calendar",
        "line 5",
    ),
    "a JSON file of mixed line ends": (
        '{"format": "todo-export",\r\n"version": 1\n}',
        "application/json",
        "line 2",
    ),
}


@pytest.mark.parametrize("name", MISLEADING)
def test_a_stray_byte_order_mark_or_mixed_line_ends_are_a_422_that_names_the_line(
    client, user, name
):
    body, content_type, where = MISLEADING[name]
    problem = refused(client, user, body, content_type)
    assert problem["type"] == "/problems/import-invalid"
    assert problem["where"] == where, problem


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_file_is_a_422_that_names_where_and_writes_nothing(client, user, name):
    body, content_type = HOSTILE[name]
    problem = refused(client, user, body, content_type)
    if problem["type"] == "/problems/import-invalid":
        assert problem["where"], problem
    elif problem["type"] == "/problems/import-rejected":
        assert problem["problems"] and all(each["where"] for each in problem["problems"])
    else:
        assert problem["type"] == "/problems/too-many-tasks"


def test_a_refused_import_lists_each_problem_with_its_place_and_field(client, user):
    body = HEAD + vtodo("z", "DUE;TZID=Mars/Olympus_Mons:20261224T100000") + TAIL
    problem = refused(client, user, body, "text/calendar")
    assert problem["type"] == "/problems/import-rejected"
    [only] = problem["problems"]
    assert only["where"] == "line 4 (VTODO) UID z" and only["field"] == "due.timezone"
    assert "Mars/Olympus_Mons" in only["message"]


def test_more_than_20000_tasks_is_a_422_of_its_own_type(client, user):
    assert MOST_TASKS == 20_000
    body = "title\r\n" + "task\r\n" * (MOST_TASKS + 1)
    problem = refused(client, user, body, "text/csv")
    assert problem["type"] == "/problems/too-many-tasks"


def test_a_body_over_10_mib_is_a_413(client, user):
    refused(client, user, "title\r\n" + "x" * (10 * 1024 * 1024), "text/csv", status=413)


def test_another_content_type_is_a_415(client, user):
    refused(client, user, "title\nx\n", "text/plain", status=415)


def imported(client, user, body, content_type) -> dict:
    answer, _ = post(client, user, body, content_type)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def test_excels_byte_order_mark_line_breaks_in_cells_and_lf_calendars_are_read_as_meant(
    client, user
):
    """Excel's "CSV UTF-8" starts with a byte order mark and ends records with CRLF, a line
    break inside a cell with LF; many calendars end their lines with LF alone, though RFC
    5545 asks for CRLF."""
    csv_file = '\ufefftitle,description\r\nfirst,"two\nlines"\r\nsecond,x\r\n'
    assert imported(client, user, csv_file.encode(), "text/csv")["counts"]["created"] == 2
    lf_file = 'title,description\nthird,"a\r\nb"\n'
    assert imported(client, user, lf_file.encode(), "text/csv")["counts"]["created"] == 1
    calendar = (HEAD + vtodo("m", "DESCRIPTION:a\\nb") + TAIL).replace("\r\n", "\n")
    assert imported(client, user, calendar.encode(), "text/calendar")["counts"]["created"] == 1
    tasks = {task["title"]: task for task in listed(client, user)}
    assert tasks["first"]["description"] == "two\nlines"
    assert tasks["third"]["description"] == "a\r\nb"
    assert tasks["task"]["description"] == "a\nb"


def test_events_are_counted_not_imported(client, user):
    event = "BEGIN:VEVENT\r\nUID:e\r\nSUMMARY:meeting\r\nEND:VEVENT\r\n"
    report = imported(client, user, HEAD + event * 2 + vtodo("t") + TAIL, "text/calendar")
    assert report["counts"]["created"] == 1 and report["ignored"] == {"VEVENT": 2}


TODOIST = (
    "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE,"
    "DURATION,DURATION_UNIT\r\n"
    "section,Before the trip,,,,,,,,,,\r\n"
    "task,Book flights @travel @urgent,Window seat,1,1,Evan (14781400),,2026-12-24 09:30,en,"
    "Europe/Paris,60,minute\r\n"
    "note,Check the baggage rules,,,,,,,,,,\r\n"
    "task,Pack,,4,2,,,every monday,en,,,\r\n"
    "task,Socks,,2,3,,,2026-12-23,en,,,\r\n"
    "task,Unpack,,,1,,,,,,,\r\n"
)


def test_todoists_template_is_read_and_what_has_no_place_is_reported(client, user):
    report = imported(client, user, TODOIST, "text/csv")
    assert report["format"] == "todoist-csv" and report["counts"]["created"] == 4
    assert report["ignored"] == {"section": 1, "note": 1}
    warnings = {(w["where"], w["message"].split(" ")[0]) for w in report["warnings"]}
    assert ("line 3", "AUTHOR") in warnings and ("line 3", "DURATION") in warnings
    assert ("line 5", "DATE") in warnings and ("line 6", "INDENT") in warnings
    assert ("line 3", "The") in warnings  # the comment below it
    tasks = {task["title"]: task for task in listed(client, user)}
    book = tasks["Book flights"]
    assert book["labels"] == ["travel", "urgent"] and book["priority"] == 3
    assert book["description"] == "Window seat"
    assert book["due"]["time"] == "09:30" and book["due"]["timezone"] == "Europe/Paris"
    assert tasks["Pack"]["priority"] == 0 and tasks["Pack"]["parent_id"] == book["id"]
    assert tasks["Pack"]["due"] is None
    assert tasks["Socks"]["parent_id"] == book["id"] and tasks["Socks"]["priority"] == 2
    assert tasks["Unpack"]["priority"] == 3 and tasks["Unpack"]["parent_id"] is None
    again = imported(client, user, TODOIST, "text/csv")
    assert again["counts"]["created"] == 0 and len(listed(client, user)) == 4
