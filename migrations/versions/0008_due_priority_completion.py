"""due dates, priority, completion time, the user's zone

- tasks.due_date, due_time, due_timezone: a due date's wall clock in RFC 5545's three forms
  (all-day, floating, zoned); tasks.due_at: the instant of a zoned one, derived by the app.
- tasks.priority: 0 (none) to 3 (high).
- tasks.completed_at: when the task was completed. Existing completed tasks get their
  updated_at: the time of their last change, which is only approximately when they were
  completed.
- users.timezone: the user's IANA zone (null: UTC).
- CHECK constraints keep the invariants: the priority's range, a time needs a date, a zone
  needs a time, an instant exactly for a zone, completed exactly when completed_at is set.

SQLite rebuilds tasks to add the constraints (they would fail on the rows before the
backfill), and with it the triggers of 0007, which are created again.

Downgrade drops the columns: due dates, priorities, completion times and zones are lost.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# As in todo/tasks/models.py when this revision was written.
TASK_CHECKS = {
    "ck_tasks_priority_range": "priority BETWEEN 0 AND 3",
    "ck_tasks_due_time_needs_date": "due_time IS NULL OR due_date IS NOT NULL",
    "ck_tasks_due_timezone_needs_time": "due_timezone IS NULL OR due_time IS NOT NULL",
    "ck_tasks_due_at_iff_timezone": "(due_at IS NULL) = (due_timezone IS NULL)",
    "ck_tasks_completed_iff_completed_at": "completed = (completed_at IS NOT NULL)",
}


def task_columns() -> list[sa.Column]:
    return [
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("due_time", sa.Time(), nullable=True),
        sa.Column("due_timezone", sa.String(64), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    ]


def triggers_of_0007() -> list[str]:
    """SQLite's triggers on tasks, which a rebuild of the table drops."""
    return context.script.get_revision("0007").module.SQLITE


def upgrade():
    dialect = op.get_bind().dialect.name
    for column in task_columns():
        op.add_column("tasks", column)
    op.add_column("users", sa.Column("timezone", sa.String(64), nullable=True))
    # Changes no version: no trigger numbers, counts or stamps these rows.
    op.execute("UPDATE tasks SET completed_at = updated_at WHERE completed")
    if dialect == "sqlite":
        with op.batch_alter_table("tasks", recreate="always") as batch_op:
            for name, rule in TASK_CHECKS.items():
                batch_op.create_check_constraint(op.f(name), rule)
        for statement in triggers_of_0007():
            op.execute(statement)
    else:
        for name, rule in TASK_CHECKS.items():
            op.create_check_constraint(op.f(name), "tasks", rule)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for name in TASK_CHECKS:
            op.drop_constraint(op.f(name), "tasks", type_="check")
    with op.batch_alter_table("tasks") as batch_op:
        if dialect == "sqlite":
            for name in TASK_CHECKS:
                batch_op.drop_constraint(op.f(name), type_="check")
        for column in reversed(task_columns()):
            batch_op.drop_column(column.name)
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("timezone")
    if dialect == "sqlite":
        for statement in triggers_of_0007():
            op.execute(statement)
