"""A Python client's walkthrough, on the package openapi-python-client generates from the API's
document (todo_client, made at test time): type-checked with `mypy --strict` and run against
a real server by tests/test_generated_client.py. It reads and writes every shape a client
meets, narrowing only with isinstance and None checks: no cast, no Any, no ignore."""

import datetime
import uuid

from todo_client import AuthenticatedClient, Client
from todo_client.api.auth import login, signup
from todo_client.api.labels import list_labels, rename_label
from todo_client.api.lists import create_list
from todo_client.api.sync import list_changes, run_batch
from todo_client.api.tasks import create_task, list_tasks, toggle_task, update_task
from todo_client.models import (
    Batch,
    CompleteOperation,
    CompleteOperationOp,
    CreateOperation,
    CreateOperationOp,
    Credentials,
    DeleteOperation,
    DeleteOperationOp,
    DueAtInstant,
    DueChanges,
    DueOnDate,
    LabelRename,
    Login,
    NewTask,
    NewTaskList,
    PatchOperation,
    PatchOperationOp,
    Problem,
    RecurrenceInput,
    RecurrenceInputFrom,
    ReminderAt,
    ReminderBefore,
    ReplaceOperation,
    ReplaceOperationOp,
    RestoreOperation,
    RestoreOperationOp,
    Task,
    TaskChanges,
    TaskInput,
    WholeRecurrence,
)

EMAIL, PASSWORD = "python@example.com", "password123"
CHRISTMAS_EVE = datetime.date(2026, 12, 24)
INSTANT = datetime.datetime(2026, 12, 24, 17, 30, tzinfo=datetime.UTC)


def due_text(task: Task) -> str:
    """A due date as a person reads it: all-day, floating, or zoned (with its instant)."""
    due = task.due
    if due is None:
        return "no due date"
    if due.time is None:
        return f"all day {due.date}"
    if due.timezone is None or due.at is None:
        return f"{due.date} {due.time}, wherever I am"
    return f"{due.date} {due.time} in {due.timezone} ({due.at.isoformat()})"


def recurrence_text(task: Task) -> str:
    recurrence = task.recurrence
    if recurrence is None:
        return "once"
    return f"{recurrence.rule} from {recurrence.from_}, done {recurrence.completed_count}x"


def a_task(answer: Task | Problem | None) -> Task:
    if not isinstance(answer, Task):
        raise AssertionError(answer)
    return answer


def walkthrough(base_url: str) -> list[str]:
    """What a client sees, in order: the outcome of each step as text."""
    with Client(base_url=base_url) as anonymous:
        signup.sync_detailed(client=anonymous, body=Credentials(email=EMAIL, password=PASSWORD))
        token = login.sync(client=anonymous, body=Login(email=EMAIL, password=PASSWORD))
    if isinstance(token, Problem) or token is None:
        raise AssertionError(token)
    user_id, seen = token.user_id, []
    with AuthenticatedClient(base_url=base_url, token=token.token) as client:
        home = create_list.sync(user_id, client=client, body=NewTaskList(name="Home"))
        if isinstance(home, Problem) or home is None:
            raise AssertionError(home)
        weekly = NewTask(
            title="Water the plants",
            list_id=home.id,
            labels=["home"],
            due=DueOnDate(date=CHRISTMAS_EVE),
            recurrence=WholeRecurrence(rule="FREQ=WEEKLY;INTERVAL=2"),
            reminders=[ReminderBefore(before="PT15M")],
        )
        task = a_task(create_task.sync(user_id, client=client, body=weekly))
        in_home = "in Home" if task.list_id == home.id else "elsewhere"
        seen += [due_text(task), recurrence_text(task), ",".join(task.labels), in_home]
        for due in (
            DueOnDate(date=CHRISTMAS_EVE, time="18:30"),
            DueOnDate(date=CHRISTMAS_EVE, time="18:30", timezone="Europe/Paris"),
            DueAtInstant(at=INSTANT, timezone="Europe/Paris"),
        ):
            reminder = ReminderAt(at=INSTANT - datetime.timedelta(minutes=30))
            timed = NewTask(title="Call home", due=due, reminders=[reminder])
            called = a_task(create_task.sync(user_id, client=client, body=timed))
            falls = [str(each.remind_at) for each in called.reminders]
            seen += [due_text(called), *falls]

        page = list_tasks.sync_detailed(user_id, client=client, list_id=str(home.id))
        again = list_tasks.sync_detailed(
            user_id, client=client, list_id=str(home.id), if_none_match=page.headers["ETag"]
        )
        seen.append(f"{page.status_code} then {again.status_code}")

        changes = TaskChanges(
            due=DueChanges(time=None),
            recurrence=RecurrenceInput(from_=RecurrenceInputFrom.COMPLETION),
        )
        changed = a_task(update_task.sync(user_id, task.id, client=client, body=changes))
        done = a_task(toggle_task.sync(user_id, task.id, client=client))
        seen += [due_text(changed), recurrence_text(changed), recurrence_text(done)]

        labels = list_labels.sync(user_id, client=client)
        if isinstance(labels, list):
            seen += [f"{label.name} x{label.task_count}" for label in labels]
        renamed = rename_label.sync(user_id, "home", client=client, body=LabelRename(name="house"))
        seen.append(renamed.name if not isinstance(renamed, Problem) and renamed else "refused")

        chosen = uuid.uuid4()
        batch_body = Batch(
            operations=[
                CreateOperation(
                    op=CreateOperationOp.CREATE, task=NewTask(id=chosen, title="Batch")
                ),
                PatchOperation(
                    op=PatchOperationOp.PATCH, id=chosen, changes=TaskChanges(priority=2)
                ),
                ReplaceOperation(
                    op=ReplaceOperationOp.REPLACE, id=chosen, task=TaskInput(title="Replaced")
                ),
                CompleteOperation(op=CompleteOperationOp.COMPLETE, id=chosen, completed=True),
                DeleteOperation(op=DeleteOperationOp.DELETE, id=chosen),
                RestoreOperation(op=RestoreOperationOp.RESTORE, id=chosen),
            ],
            atomic=False,
        )
        batch = run_batch.sync(user_id, client=client, body=batch_body)
        if isinstance(batch, Problem) or batch is None:
            raise AssertionError(batch)
        for result in batch.results:
            title = result.task.title if isinstance(result.task, Task) else "-"
            detail = result.problem.detail if isinstance(result.problem, Problem) else ""
            seen.append(f"{result.status} {title}{detail}")

        first = list_changes.sync(user_id, client=client)
        if isinstance(first, Problem) or first is None:
            raise AssertionError(first)
        later = list_changes.sync(user_id, client=client, since=first.next_)
        if isinstance(later, Problem) or later is None:
            raise AssertionError(later)
        seen.append(f"{len(first.tasks)} tasks, then {len(later.tasks)} changed")
    return seen
