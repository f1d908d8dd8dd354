"""What a write makes of a task's newer fields, computed from the task as stored: the due date
merged (JSON Merge Patch), the recurrence and reminders checked against it, and a completion
of a recurring task turned into a roll-over (or its undo). Pure: the task store reads and
locks the task, and writes what this decides.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Row

from . import due, recurrence, reminders

MERGED = ("due", "recurrence", "reminders")  # written through a merge with the stored task
MERGED_FIELDS = frozenset(MERGED)
NO_RECURRENCE = {
    "recurrence_rule": None,
    "recurrence_from": None,
    "recurrence_start": None,
    "recurrence_completed_count": 0,
    "recurrence_last_completed_at": None,
}
# What a task that never had the newer fields holds: what a new task starts from.
BLANK = {**due.NO_DUE, **NO_RECURRENCE, "reminders": [], "completed": False}


@dataclass(frozen=True)
class Asked:
    """What a write asks of a task: the values sent (columns, and the merged fields as sent),
    a flip of `completed`, and the occurrence a completion is meant for (None: any)."""

    values: Mapping
    flip: bool = False
    occurrence: date | None = None


@dataclass(frozen=True)
class Context:
    """What the rules read beside the task: the user's zone (where all-day and floating dates
    fall), the instant of the write, and the task's latest completion entries, newest first
    (read only for an undo)."""

    user_zone: str | None
    now: datetime | None = None
    completions: Callable[[], list] = field(default=list)


@dataclass
class Revision:
    """The columns to write (and whether to flip `completed`), and the history to keep: a
    completion to record (a roll-over), or the latest one to remove (its undo)."""

    columns: dict
    flip: bool = False
    record: date | None = None  # the occurrence a roll-over completed, if any
    recorded_at: datetime | None = None  # when: the write's instant
    undo: Row | None = None  # the completion entry a `completed: false` undid
    unchanged: bool = False  # the occurrence asked for is no longer due: nothing to do


def new_task(fields: dict, user_zone: str | None) -> dict:
    """The newer fields' columns of a new task (created completed or not: a creation is not
    a completion of an occurrence)."""
    newer = {name: fields[name] for name in MERGED if name in fields}
    return revise(BLANK, Asked(newer), Context(user_zone)).columns


def revise(current: Mapping, asked: Asked, context: Context) -> Revision:
    """The revision a write `asked` makes of the `current` task; ValidationErrors for a
    combination the task cannot hold."""
    values = asked.values
    if asked.occurrence is not None and current["due_date"] != asked.occurrence:
        return Revision({}, unchanged=True)  # a replay of a completion already done
    columns = {name: value for name, value in values.items() if name not in MERGED}
    if "due" in values:
        columns.update(due.merged(current, values["due"]))
    task = {**current, **columns}
    if "recurrence" in values:
        columns.update(recurrence_columns(current, values["recurrence"], task["due_date"]))
    elif task["due_date"] != current["due_date"] and task["recurrence_rule"] is not None:
        columns["recurrence_start"] = task["due_date"]  # moved by hand: counts from there
    task = {**current, **columns}
    if task["recurrence_rule"] is not None and task["due_date"] is None:
        raise recurrence.RecurrenceInvalid("A recurrence needs a due date.")
    if task["recurrence_rule"] is not None and "recurrence_start" in columns:
        recurrence.check_reach(task["recurrence_rule"], task["recurrence_from"], task["due_date"])
    revision = Revision(columns, asked.flip)
    if task["recurrence_rule"] is not None:
        completed(revision, current, task, context)
    task = {**current, **columns}
    if "reminders" in values:
        columns["reminders"] = reminders.stored(values["reminders"], task, context.user_zone)
    elif any(task[name] != current[name] for name in due.COLUMNS) and task["reminders"]:
        columns["reminders"] = reminders.stored(task["reminders"], task, context.user_zone)
    return revision


def recurrence_columns(current: Mapping, patch: dict | None, due_date: date | None) -> dict:
    """A recurrence merged onto the stored one (members sent replace theirs; null clears it);
    it counts its occurrences from the due date it is set with."""
    if patch is None:
        return dict(NO_RECURRENCE)
    rule = patch.get("rule", current["recurrence_rule"])
    counts_from = patch.get("from") or current["recurrence_from"] or "due"
    if rule is None:
        raise recurrence.RecurrenceInvalid("A recurrence needs its rule.")
    return {
        "recurrence_rule": recurrence.checked_rule(rule, counts_from),
        "recurrence_from": counts_from,
        "recurrence_start": due_date,
    }


def completed(revision: Revision, current: Mapping, task: Mapping, context: Context) -> None:
    """A recurring task completed: rolled over to its next occurrence (still open), or, the
    rule used up, completed for real. `completed: false` on an open recurring task undoes
    the last roll-over; on one completed for real, it reopens it."""
    columns = revision.columns
    was_done = current["completed"]
    completes = (revision.flip or columns.get("completed") is True) and not was_done
    reopens = (revision.flip or columns.get("completed") is False) and was_done
    count = current["recurrence_completed_count"]
    now = context.now
    if completes:
        zone_name = task["due_timezone"] or context.user_zone or "UTC"
        following = recurrence.next_date(
            task["recurrence_rule"],
            task["recurrence_from"],
            task["recurrence_start"] or task["due_date"],
            task["due_date"],
            task["due_time"],
            zone_name,
            now,
        )
        columns["recurrence_completed_count"] = count + 1
        columns["recurrence_last_completed_at"] = now
        if following is None:  # used up: completed for real (the trigger records it)
            columns["completed"], revision.flip = True, False
            return
        columns.pop("completed", None)
        revision.flip, revision.record, revision.recorded_at = False, task["due_date"], now
        columns.update(due.columns(following, task["due_time"], task["due_timezone"]))
    elif reopens:  # the trigger removes the completion it had recorded
        columns["recurrence_completed_count"] = max(count - 1, 0)
    elif columns.get("completed") is False:  # undo the last roll-over, if there was one
        columns.pop("completed")
        entries = context.completions()
        if not count or not entries:
            return
        latest, *earlier = entries
        if latest.occurrence is not None:
            columns.update(due.columns(latest.occurrence, task["due_time"], task["due_timezone"]))
        columns["recurrence_completed_count"] = count - 1
        columns["recurrence_last_completed_at"] = earlier[0].completed_at if earlier else None
        revision.undo = latest
