"""who did it

- tasks.created_by, tasks.updated_by: the user who created a task, who last wrote it (not
  null; existing tasks: their owner); tasks.completed_by: who completed it (null while
  open; existing completed tasks: their owner); tasks.assignee_id: whom it is assigned to
  (null: nobody; existing tasks: nobody). User ids with no foreign key: a member's account
  may be deleted, the ids stay.
- ix_tasks_user_id_assignee_id_created_at_id: the `assignee=` filter.
- task_completions.completed_by: who completed it (not null; existing entries: the owner),
  copied from the task by the completion triggers.

The backfills change no version: no trigger numbers, counts or stamps these rows. Downgrade
drops the columns and the index (who did what is forgotten; the tasks and the history stay)
and puts revision 0009's completion triggers back.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

WHO = ("created_by", "updated_by", "completed_by", "assignee_id")
NOT_NULL = ("created_by", "updated_by")
INDEX = "ix_tasks_user_id_assignee_id_created_at_id"
BACKFILL = [
    "UPDATE tasks SET created_by = user_id, updated_by = user_id",
    "UPDATE tasks SET completed_by = user_id WHERE completed_at IS NOT NULL",
    "UPDATE task_completions SET completed_by = user_id",
]
# The completion triggers of revision 0009, now saying who: the task's completed_by (its
# owner if a write left it null).
REMOVE_LATEST = """DELETE FROM task_completions
            WHERE user_id = OLD.user_id AND id = (
                SELECT id FROM task_completions
                WHERE user_id = OLD.user_id AND task_id = OLD.id
                ORDER BY completed_at DESC, id DESC LIMIT 1);"""
POSTGRESQL_FUNCTION = f"""CREATE OR REPLACE FUNCTION record_task_completion() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.completed_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.completed_at IS NULL) THEN
            INSERT INTO task_completions
                (user_id, id, task_id, title, completed_at, occurrence, completed_by)
            VALUES (NEW.user_id, gen_random_uuid(), NEW.id, NEW.title, NEW.completed_at,
                    NEW.due_date, COALESCE(NEW.completed_by, NEW.user_id));
        ELSIF TG_OP = 'UPDATE' AND NEW.completed_at IS NULL AND OLD.completed_at IS NOT NULL
        THEN
            {REMOVE_LATEST}
        END IF;
        RETURN NULL;
    END $$"""
RECORD = """INSERT INTO task_completions
            (user_id, id, task_id, title, completed_at, occurrence, completed_by)
        VALUES (NEW.user_id, lower(hex(randomblob(16))), NEW.id, NEW.title, NEW.completed_at,
                NEW.due_date, COALESCE(NEW.completed_by, NEW.user_id));"""
SQLITE = {
    "tasks_completion_added": f"""CREATE TRIGGER tasks_completion_added AFTER INSERT ON tasks
    WHEN NEW.completed_at IS NOT NULL
    BEGIN {RECORD} END""",
    "tasks_completion_recorded": f"""CREATE TRIGGER tasks_completion_recorded
    AFTER UPDATE OF completed_at ON tasks
    WHEN OLD.completed_at IS NULL AND NEW.completed_at IS NOT NULL
    BEGIN {RECORD} END""",
}


def triggers_after_0019() -> list[str]:
    """SQLite's triggers on tasks before this revision, which a rebuild of the table drops:
    0012's, with 0019's (a departure from a shared list recorded) in place of theirs."""
    subtasks = context.script.get_revision("0012").module
    feed = context.script.get_revision("0019").module
    replaced = {trigger_name(statement): statement for statement in feed.SQLITE_TASK_TRIGGERS}
    before = subtasks.triggers_after_0011() + subtasks.SQLITE
    kept = [replaced.pop(trigger_name(statement), statement) for statement in before]
    return kept + list(replaced.values())


def triggers_after_0020() -> list[str]:
    """The same with the completion triggers that say who."""
    return [SQLITE.get(trigger_name(statement), statement) for statement in triggers_after_0019()]


def trigger_name(statement: str) -> str:
    return statement.split()[2]  # CREATE TRIGGER <name> …


def upgrade():
    dialect = op.get_bind().dialect.name
    for name in WHO:
        op.add_column("tasks", sa.Column(name, sa.Uuid(), nullable=True))
    op.add_column("task_completions", sa.Column("completed_by", sa.Uuid(), nullable=True))
    for statement in BACKFILL:
        op.execute(statement)
    if dialect == "sqlite":
        with op.batch_alter_table("tasks", recreate="always") as batch_op:
            for name in NOT_NULL:
                batch_op.alter_column(name, existing_type=sa.Uuid(), nullable=False)
        with op.batch_alter_table("task_completions", recreate="always") as batch_op:
            batch_op.alter_column("completed_by", existing_type=sa.Uuid(), nullable=False)
        for statement in triggers_after_0020():
            op.execute(statement)
    else:
        for name in NOT_NULL:
            op.alter_column("tasks", name, existing_type=sa.Uuid(), nullable=False)
        op.alter_column("task_completions", "completed_by", existing_type=sa.Uuid(), nullable=False)
        op.execute(POSTGRESQL_FUNCTION)
    op.create_index(INDEX, "tasks", ["user_id", "assignee_id", "created_at", "id"])


def downgrade():
    dialect = op.get_bind().dialect.name
    op.drop_index(INDEX, table_name="tasks")
    if dialect == "postgresql":
        original = context.script.get_revision("0009").module.POSTGRESQL[0]
        op.execute(original.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    with op.batch_alter_table("tasks") as batch_op:
        for name in reversed(WHO):
            batch_op.drop_column(name)
    # On SQLite after the rebuild of tasks, which drops the triggers naming task_completions.
    with op.batch_alter_table("task_completions") as batch_op:
        batch_op.drop_column("completed_by")
    if dialect == "sqlite":  # the rebuild of tasks dropped its triggers
        for statement in triggers_after_0019():
            op.execute(statement)
