"""What the portability routes' documentation shows: files that import as they are in /docs'
"Try it out", and the problems the routes answer, worded as they answer them
(tests/test_examples.py sends every JSON example and compares)."""

from ..errors import example, problem_example
from ..lists.store import ListNotFound
from .answers import IMPORT_INVALID, IMPORT_REJECTED
from .imports import ImportRejected, Report
from .items import ImportInvalid, TooManyTasks
from .jobs import ImportJobNotFound, TooManyImports
from .subscriptions import CalendarNotFound, SubscriptionNotFound, TooManySubscriptions

NOT_A_FILE = (
    "The body must be our JSON export (application/json), an iCalendar file (text/calendar) "
    "or a CSV file (text/csv: ours or Todoist's template)."
)
PARENT_ID = "1d7c9e52-4b3a-4f1e-8a6d-5c2b9e7f3a10"
SUBTASK_ID = "8e2a4c61-9f3b-4d7e-b1a5-6c0d2e8f4b92"

EXPORT = {
    "format": "todo-export",
    "version": 1,
    "lists": [],
    "tasks": [
        {
            "id": PARENT_ID,
            "title": "Plan the trip",
            "priority": 2,
            "due": {"date": "2026-12-24", "time": "09:30", "timezone": "Europe/Paris"},
            "recurrence": None,
            "reminders": [{"before": "PT15M", "at": None, "remind_at": None}],
            "labels": ["travel"],
            "completed": False,
            "deleted_at": None,
        },
        {"id": SUBTASK_ID, "title": "Book the train", "parent_id": PARENT_ID, "deleted_at": None},
    ],
    "completions": [],
}
CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//example//EN\r\nBEGIN:VTODO\r\n"
    "UID:42@example.com\r\nDTSTAMP:20261201T090000Z\r\nSUMMARY:Water the plants\r\n"
    "DUE;VALUE=DATE:20261224\r\nPRIORITY:1\r\nCATEGORIES:home\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
)
OUR_CSV = 'id,title,priority,due_date,labels\r\n,Water the plants,3,2026-12-24,"[""home""]"\r\n'
TODOIST_CSV = (
    "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE\r\n"
    "task,Water the plants @home,,1,1,,,2026-12-24,en,\r\n"
    "task,Buy soil,,4,2,,,every monday,en,\r\n"
)
IMPORT_FILES = {
    "ourExport": example("Our JSON export: a task and its subtask", EXPORT),
    "notAnExport": example("A JSON document that is not our export", {"tasks": []}),
}
OTHER_FILES = {
    "text/calendar": {"vtodo": example("An iCalendar VTODO", CALENDAR)},
    "text/csv": {
        "ours": example("Our CSV columns (any subset, title required)", OUR_CSV),
        "todoist": example("Todoist's CSV template", TODOIST_CSV),
    },
}
NOT_AN_EXPORT = ImportInvalid("the document", 'not a todo-export document ("format")')
BROKEN_JSON = ImportInvalid("byte 10", "not JSON (unexpected end of data)")
REJECTED = Report(
    "icalendar",
    problems=[
        {
            "where": "component 1 (VTODO) UID 42@example.com",
            "field": "due.timezone",
            "message": "Unknown time zone 'Mars/Olympus': use an IANA name such as Europe/Paris.",
        }
    ],
)
IMPORT_PROBLEMS = {
    404: {"listNotFound": problem_example(404, str(ListNotFound()))},
    415: {"notAFile": problem_example(415, NOT_A_FILE)},
    422: {
        "notAnExport": problem_example(
            422, str(NOT_AN_EXPORT), type=IMPORT_INVALID, where=NOT_AN_EXPORT.where
        ),
        "brokenJson": problem_example(
            422,
            str(BROKEN_JSON),
            "A JSON body cut short",
            type=IMPORT_INVALID,
            where=BROKEN_JSON.where,
        ),
        "tooManyTasks": problem_example(422, str(TooManyTasks()), type="/problems/too-many-tasks"),
        "importRejected": problem_example(
            422,
            str(ImportRejected(REJECTED)),
            type=IMPORT_REJECTED,
            problems=REJECTED.problems,
        ),
    },
    429: {"tooManyImports": problem_example(429, str(TooManyImports(3)))},
}
IMPORT_JOB_PROBLEMS = {404: {"importNotFound": problem_example(404, str(ImportJobNotFound()))}}

NEW_SUBSCRIPTION = {
    "everything": example("Every task with a due date, as VTODOs", {}),
    "events": example(
        "As events, for calendars that show only events (Google Calendar)", {"events": True}
    ),
}
SUBSCRIPTION_PROBLEMS = {
    404: {"subscriptionNotFound": problem_example(404, str(SubscriptionNotFound()))},
}
NEW_SUBSCRIPTION_PROBLEMS = {
    404: {"listNotFound": problem_example(404, str(ListNotFound()))},
    422: {
        "tooManySubscriptions": problem_example(
            422, str(TooManySubscriptions()), type="/problems/too-many-subscriptions"
        )
    },
}
FEED_PROBLEMS = {404: {"calendarNotFound": problem_example(404, str(CalendarNotFound()))}}
