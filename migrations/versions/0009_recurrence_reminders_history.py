"""recurrence, reminders, completion history

- tasks.recurrence_rule, recurrence_from: an RFC 5545 RRULE and whether it counts from the
  due date or from each completion; recurrence_start: the date its occurrences start from;
  recurrence_completed_count, recurrence_last_completed_at: what was completed of it.
- tasks.reminders: a task's reminders as answers give them (JSON; jsonb on PostgreSQL, which
  has equality, so a write that changes nothing is seen as such), with their remind_at.
- task_completions: one row per completion (the title then, the occurrence), keyed
  (user_id, id). Triggers record a completion when completed_at is set and remove the latest
  one when it is cleared (a reopen); the app records a recurring task's roll-over itself.
  Tasks completed before this revision get one entry each, at their completed_at.
- CHECK constraints: a recurrence needs a due date; `from` is `due` or `completion`.

SQLite rebuilds tasks to add the constraints, and with it the triggers of 0007, which are
created again.

Downgrade drops the columns and the history: recurrences, reminders and the completion
history are lost (a recurring task stays, as a plain task with its current due date).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# As in todo/tasks/models.py when this revision was written.
RECURRENCE_CHECKS = {
    "ck_tasks_recurrence_needs_due": "recurrence_rule IS NULL OR due_date IS NOT NULL",
    "ck_tasks_recurrence_from_known": "(recurrence_rule IS NULL AND recurrence_from IS NULL) "
    "OR recurrence_from IN ('due', 'completion')",
}

# A reopened task's latest completion goes.
REMOVE_LATEST = """DELETE FROM task_completions
            WHERE user_id = OLD.user_id AND id = (
                SELECT id FROM task_completions
                WHERE user_id = OLD.user_id AND task_id = OLD.id
                ORDER BY completed_at DESC, id DESC LIMIT 1);"""
POSTGRESQL = [
    f"""CREATE FUNCTION record_task_completion() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.completed_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.completed_at IS NULL) THEN
            INSERT INTO task_completions (user_id, id, task_id, title, completed_at, occurrence)
            VALUES (NEW.user_id, gen_random_uuid(), NEW.id, NEW.title, NEW.completed_at,
                    NEW.due_date);
        ELSIF TG_OP = 'UPDATE' AND NEW.completed_at IS NULL AND OLD.completed_at IS NOT NULL
        THEN
            {REMOVE_LATEST}
        END IF;
        RETURN NULL;
    END $$""",
    # WHEN: a write that leaves completed_at alone queues no trigger event at all.
    """CREATE TRIGGER tasks_completion_added AFTER INSERT ON tasks
    FOR EACH ROW WHEN (NEW.completed_at IS NOT NULL)
    EXECUTE FUNCTION record_task_completion()""",
    """CREATE TRIGGER tasks_completion_recorded AFTER UPDATE OF completed_at ON tasks
    FOR EACH ROW WHEN (OLD.completed_at IS DISTINCT FROM NEW.completed_at)
    EXECUTE FUNCTION record_task_completion()""",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER tasks_completion_added ON tasks",
    "DROP TRIGGER tasks_completion_recorded ON tasks",
    "DROP FUNCTION record_task_completion()",
]
RECORD = """INSERT INTO task_completions (user_id, id, task_id, title, completed_at, occurrence)
        VALUES (NEW.user_id, lower(hex(randomblob(16))), NEW.id, NEW.title, NEW.completed_at,
                NEW.due_date);"""
SQLITE = [
    f"""CREATE TRIGGER tasks_completion_added AFTER INSERT ON tasks
    WHEN NEW.completed_at IS NOT NULL
    BEGIN {RECORD} END""",
    f"""CREATE TRIGGER tasks_completion_recorded AFTER UPDATE OF completed_at ON tasks
    WHEN OLD.completed_at IS NULL AND NEW.completed_at IS NOT NULL
    BEGIN {RECORD} END""",
    f"""CREATE TRIGGER tasks_completion_undone AFTER UPDATE OF completed_at ON tasks
    WHEN OLD.completed_at IS NOT NULL AND NEW.completed_at IS NULL
    BEGIN {REMOVE_LATEST} END""",
]
BACKFILL = """INSERT INTO task_completions (user_id, id, task_id, title, completed_at, occurrence)
    SELECT user_id, {new_id}, id, title, completed_at, due_date FROM tasks
    WHERE completed_at IS NOT NULL"""


def task_columns() -> list[sa.Column]:
    return [
        sa.Column("recurrence_rule", sa.String(500), nullable=True),
        sa.Column("recurrence_from", sa.String(10), nullable=True),
        sa.Column("recurrence_start", sa.Date(), nullable=True),
        sa.Column(
            "recurrence_completed_count", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("recurrence_last_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "reminders",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
    ]


def triggers_of_0007() -> list[str]:
    return context.script.get_revision("0008").module.triggers_of_0007()


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        "task_completions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurrence", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_task_completions_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name="pk_task_completions"),
    )
    op.create_index(
        "ix_task_completions_user_id_completed_at_id",
        "task_completions",
        ["user_id", "completed_at", "id"],
    )
    op.create_index(
        "ix_task_completions_user_id_task_id_completed_at",
        "task_completions",
        ["user_id", "task_id", "completed_at"],
    )
    for column in task_columns():
        op.add_column("tasks", column)
    new_id = "gen_random_uuid()" if dialect == "postgresql" else "lower(hex(randomblob(16)))"
    op.execute(BACKFILL.format(new_id=new_id))
    if dialect == "sqlite":
        with op.batch_alter_table("tasks", recreate="always") as batch_op:
            for name, rule in RECURRENCE_CHECKS.items():
                batch_op.create_check_constraint(op.f(name), rule)
        for statement in triggers_of_0007() + SQLITE:
            op.execute(statement)
    else:
        for name, rule in RECURRENCE_CHECKS.items():
            op.create_check_constraint(op.f(name), "tasks", rule)
        for statement in POSTGRESQL:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
        for name in RECURRENCE_CHECKS:
            op.drop_constraint(op.f(name), "tasks", type_="check")
    with op.batch_alter_table("tasks") as batch_op:
        if dialect == "sqlite":
            for name in RECURRENCE_CHECKS:
                batch_op.drop_constraint(op.f(name), type_="check")
        for column in reversed(task_columns()):
            batch_op.drop_column(column.name)
    op.drop_index("ix_task_completions_user_id_task_id_completed_at", "task_completions")
    op.drop_index("ix_task_completions_user_id_completed_at_id", "task_completions")
    op.drop_table("task_completions")
    if dialect == "sqlite":  # the rebuild of tasks dropped its triggers
        for statement in triggers_of_0007():
            op.execute(statement)
