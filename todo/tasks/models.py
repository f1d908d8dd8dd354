"""The tasks table."""

import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    Text,
    Time,
    func,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import JSONText, Tombstone, UTCDateTime, UUIDText, answer_time
from ..extensions import db
from ..lists.models import POSITION_TYPE

TITLE_MAX = 500
DESCRIPTION_MAX = 10_000
PRIORITY_MAX = 3  # 0 none, 1 low, 2 medium, 3 high
ZONE_NAME_MAX = 64  # the longest IANA name is 32 characters

# The invariants of the newer fields (migration 0008), which the database itself keeps.
TASK_CHECKS = {
    "priority_range": f"priority BETWEEN 0 AND {PRIORITY_MAX}",
    "due_time_needs_date": "due_time IS NULL OR due_date IS NOT NULL",
    "due_timezone_needs_time": "due_timezone IS NULL OR due_time IS NOT NULL",
    "due_at_iff_timezone": "(due_at IS NULL) = (due_timezone IS NULL)",
    "completed_iff_completed_at": "completed = (completed_at IS NOT NULL)",
}
# Those of recurrence (migration 0009).
RECURRENCE_CHECKS = {
    "recurrence_needs_due": "recurrence_rule IS NULL OR due_date IS NOT NULL",
    "recurrence_from_known": "(recurrence_rule IS NULL AND recurrence_from IS NULL) "
    "OR recurrence_from IN ('due', 'completion')",
}
RULE_MAX = 500


class Task(db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(f"length(title) BETWEEN 1 AND {TITLE_MAX}", name="title_length"),
        CheckConstraint("length(trim(title)) = length(title)", name="title_trimmed"),
        CheckConstraint(
            f"description IS NULL OR length(description) <= {DESCRIPTION_MAX}",
            name="description_length",
        ),
        *(
            CheckConstraint(rule, name=name)
            for name, rule in {**TASK_CHECKS, **RECURRENCE_CHECKS}.items()
        ),
        # "This user's tasks in order", for each sort of the list (ties broken by id), and
        # the default order within the `completed` filter: a page is a range scan of one index.
        Index("ix_tasks_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_tasks_user_id_updated_at_id", "user_id", "updated_at", "id"),
        Index("ix_tasks_user_id_title_id", "user_id", "title", "id"),
        Index(
            "ix_tasks_user_id_completed_created_at_id", "user_id", "completed", "created_at", "id"
        ),
        # The manual order (tasks/ordering.py), of all tasks and within a list.
        Index("ix_tasks_user_id_position_id", "user_id", "position", "id"),
        Index("ix_tasks_user_id_list_id_position_id", "user_id", "list_id", "position", "id"),
        # A task's list is one of its own user's (migration 0011), and so is its parent (0012).
        ForeignKeyConstraint(["user_id", "list_id"], ["lists.user_id", "lists.id"]),
        ForeignKeyConstraint(["user_id", "parent_id"], ["tasks.user_id", "tasks.id"]),
        Index("ix_tasks_user_id_parent_id_position_id", "user_id", "parent_id", "position", "id"),
        # The change feed reads a user's tasks above a number; the trash, by deletion time.
        Index("ix_tasks_user_id_change_number_id", "user_id", "change_number", "id"),
        Index("ix_tasks_user_id_deleted_at_id", "user_id", "deleted_at", "id"),
        # The `assignee=` filter, in the list's default order (migration 0020), of the tasks
        # assigned to someone only (0023): a write of any other task maintains no entry here.
        Index(
            "ix_tasks_user_id_assignee_id_created_at_id",
            "user_id",
            "assignee_id",
            "created_at",
            "id",
            postgresql_where=text("assignee_id IS NOT NULL"),
            sqlite_where=text("assignee_id IS NOT NULL"),
        ),
    )

    # Keyed on user_id first so the table can be distributed by user (Citus).
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str | None] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Bumped by every change; the ETag, and what If-Match is checked against inside the UPDATE.
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    # The user's change number of the task's last change (todo/tasks/changes.py).
    change_number: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    # When the task went to the trash; null while it is live.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The due date's wall clock, and for a zoned one the instant it names (tasks/due.py).
    due_date: Mapped[date | None] = mapped_column(Date)
    due_time: Mapped[time | None] = mapped_column(Time)
    due_timezone: Mapped[str | None] = mapped_column(String(ZONE_NAME_MAX))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    # Set by every change that completes the task, cleared by one that reopens it.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An RFC 5545 RRULE and what it counts from (tasks/recurrence.py); the date its
    # occurrences start from (the due date when the rule or the date was last set); how many
    # occurrences were completed, and when the last one was.
    recurrence_rule: Mapped[str | None] = mapped_column(String(RULE_MAX))
    recurrence_from: Mapped[str | None] = mapped_column(String(10))
    recurrence_start: Mapped[date | None] = mapped_column(Date)
    recurrence_completed_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    recurrence_last_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The task's place in the manual order: a fractional index compared byte by byte (the
    # "C" collation on PostgreSQL; SQLite compares bytes anyway), ties broken by id.
    position: Mapped[str] = mapped_column(POSITION_TYPE, server_default=text("'a0'"))
    # The task's list; null: the Inbox.
    list_id: Mapped[uuid.UUID | None]
    # The task's parent (a top-level task of the same user), and a parent's live subtasks
    # and the completed ones among them, kept by triggers (migration 0012).
    parent_id: Mapped[uuid.UUID | None]
    subtasks_total: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    subtasks_completed: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Reminders as answers give them, each with its remind_at (tasks/reminders.py).
    reminders: Mapped[list] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), default=list, server_default=text("'[]'")
    )
    # The names of the labels the task carries, as answers give them, in the task's order
    # (todo/labels: the labels and task_labels rows are what they stand for).
    labels: Mapped[list] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), default=list, server_default=text("'[]'")
    )
    # Who did it (todo/tasks/assignees.py, docs/sharing.md): the user who created the task,
    # who last wrote it, who completed it (null while it is open), all user ids with no key
    # (a member's account may go; the ids stay); and whom it is assigned to: its owner or a
    # member of its list, null when that member leaves.
    created_by: Mapped[uuid.UUID]
    updated_by: Mapped[uuid.UUID]
    completed_by: Mapped[uuid.UUID | None]
    assignee_id: Mapped[uuid.UUID | None]


class PurgedTask(Tombstone, db.Model):
    """What is kept of a task purged for good: enough for the change feed to tell clients it
    is gone, and for its id never to be taken again. Kept while the account lives (a few
    dozen bytes a task): a client's offline create, replayed however late, cannot bring a
    purged task back."""

    __tablename__ = "purged_tasks"
    __table_args__ = (
        Index("ix_purged_tasks_user_id_change_number_id", "user_id", "change_number", "id"),
    )

    # The list the task was in, for the feeds of that list's members (todo/sync/shared.py).
    list_id: Mapped[uuid.UUID | None]


class TaskCompletion(db.Model):
    """One completion of a task, kept as it was (its title then, and the occurrence of a
    recurring task it completed): the history a user reads back. Written by triggers when a
    task is completed or reopened (migration 0009), and by the task store when a recurring
    task rolls over. Kept while the account lives, whatever becomes of the task."""

    __tablename__ = "task_completions"
    __table_args__ = (
        Index("ix_task_completions_user_id_completed_at_id", "user_id", "completed_at", "id"),
        Index(
            "ix_task_completions_user_id_task_id_completed_at", "user_id", "task_id", "completed_at"
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    task_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    occurrence: Mapped[date | None] = mapped_column(Date)
    # Who completed it (migration 0020; entries from before it: the task's owner).
    completed_by: Mapped[uuid.UUID]


WHO = ("created_by", "updated_by", "completed_by", "assignee_id")  # the user ids a task answers
tasks, purged_tasks = Task.__table__, PurgedTask.__table__
task_completions = TaskCompletion.__table__
# A task as the statements of store.py and listing.py give it back.
TEXT_IDS = ("id", "user_id", "list_id", "parent_id", *WHO)
TASK_ROW = (
    *(type_coerce(tasks.c[name], UUIDText()).label(name) for name in TEXT_IDS),
    *(column for column in tasks.c if column.name not in TEXT_IDS),
)
# The same for the reads whose rows go straight into answers (a task, a page, the feed): the
# columns answers show (the feed adds the change number), the timestamps already as answer
# text (columns.answer_time), the JSON lists as their text (columns.JSONText), and who created
# and last wrote it as null where that is the task's owner (answered_who). Each column read is
# work for both sides, for every task of a page: the database prints it, psycopg2 makes it a
# Python value.
ANSWERED_TIMES = ("created_at", "updated_at", "deleted_at", "completed_at")
ANSWERED_LISTS = ("reminders", "labels")
UNANSWERED = ("change_number", "recurrence_start")
BY_OWNER = ("created_by", "updated_by")


def answered(column):
    if column.name in ANSWERED_TIMES:
        return answer_time(column).label(column.name)
    if column.name in ANSWERED_LISTS:
        return type_coerce(column, JSONText()).label(column.name)
    if column.name in BY_OWNER:
        return answered_who(tasks.c[column.name])
    return column


def answered_who(column):
    """A who column that is never null (created_by, updated_by) as an answer read takes it:
    null where it is the task's owner's id (a user's own tasks, most of them), which the
    answer carries already (serializer.OwnersOr). A uuid printed, sent, decoded and freed
    for each of four columns of each task were +8.6% of a 20-task list's instructions
    (bench/RESULTS.md); a null is none of these."""
    return type_coerce(func.nullif(column, tasks.c.user_id), UUIDText()).label(column.name)


ANSWER_ROW = tuple(answered(column) for column in TASK_ROW if column.name not in UNANSWERED)
