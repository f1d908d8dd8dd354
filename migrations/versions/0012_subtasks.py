"""subtasks

- tasks.parent_id: the task's parent (one level: a top-level task of the same user), through
  a composite foreign key (user_id, parent_id) -> tasks (user_id, id), so the database refuses
  a parent of another user's; an index (user_id, parent_id, position, id) for a parent's
  subtasks in order.
- tasks.subtasks_total, subtasks_completed: a task's live subtasks and the completed ones
  among them, kept by row triggers (no transition tables) when a subtask is added, removed,
  completed, reopened, trashed, restored or moved to another parent. The parent's version
  does not move with them (they are derived, like the user's counters).

SQLite rebuilds tasks to add the foreign key, and with it the triggers of 0007 and 0009, which
are created again.

Downgrade drops the three columns: every subtask becomes a top-level task (nothing else is
lost).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_tasks_user_id_tasks"
INDEX = "ix_tasks_user_id_parent_id_position_id"
COUNTED = ("subtasks_total", "subtasks_completed")
CHANGED = """(OLD.parent_id IS NOT NULL OR NEW.parent_id IS NOT NULL)
        AND (OLD.parent_id IS DISTINCT FROM NEW.parent_id OR OLD.completed <> NEW.completed
             OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))"""
POSTGRESQL = [
    """CREATE FUNCTION count_subtask() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND OLD.parent_id IS NOT NULL AND OLD.deleted_at IS NULL THEN
            UPDATE tasks SET subtasks_total = subtasks_total - 1,
                subtasks_completed = subtasks_completed - OLD.completed::int
            WHERE user_id = OLD.user_id AND id = OLD.parent_id;
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.parent_id IS NOT NULL AND NEW.deleted_at IS NULL THEN
            UPDATE tasks SET subtasks_total = subtasks_total + 1,
                subtasks_completed = subtasks_completed + NEW.completed::int
            WHERE user_id = NEW.user_id AND id = NEW.parent_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER tasks_subtask_added AFTER INSERT ON tasks FOR EACH ROW
    WHEN (NEW.parent_id IS NOT NULL) EXECUTE FUNCTION count_subtask()""",
    """CREATE TRIGGER tasks_subtask_removed AFTER DELETE ON tasks FOR EACH ROW
    WHEN (OLD.parent_id IS NOT NULL) EXECUTE FUNCTION count_subtask()""",
    f"""CREATE TRIGGER tasks_subtask_changed AFTER UPDATE OF parent_id, completed, deleted_at
    ON tasks FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION count_subtask()""",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER tasks_subtask_changed ON tasks",
    "DROP TRIGGER tasks_subtask_removed ON tasks",
    "DROP TRIGGER tasks_subtask_added ON tasks",
    "DROP FUNCTION count_subtask()",
]
# SQLite: a row's share of its parent's counts, NEW's added and OLD's taken away.
SHARE = """UPDATE tasks SET subtasks_total = subtasks_total {sign} ({row}.deleted_at IS NULL),
            subtasks_completed = subtasks_completed
                {sign} ({row}.deleted_at IS NULL AND {row}.completed)
        WHERE user_id = {row}.user_id AND id = {row}.parent_id;"""
ADD, TAKE = SHARE.format(sign="+", row="NEW"), SHARE.format(sign="-", row="OLD")
SQLITE = [
    f"""CREATE TRIGGER tasks_subtask_added AFTER INSERT ON tasks
    WHEN NEW.parent_id IS NOT NULL BEGIN {ADD} END""",
    f"""CREATE TRIGGER tasks_subtask_removed AFTER DELETE ON tasks
    WHEN OLD.parent_id IS NOT NULL BEGIN {TAKE} END""",
    f"""CREATE TRIGGER tasks_subtask_changed AFTER UPDATE OF parent_id, completed, deleted_at
    ON tasks WHEN {CHANGED.replace("IS DISTINCT FROM", "IS NOT")} BEGIN {TAKE} {ADD} END""",
]


def upgrade():
    dialect = op.get_bind().dialect.name
    parent_id = sa.Column("parent_id", sa.Uuid(), nullable=True)
    counts = [
        sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)
        for name in COUNTED
    ]
    if dialect == "sqlite":
        with op.batch_alter_table("tasks", recreate="always") as batch_op:
            for column in (parent_id, *counts):
                batch_op.add_column(column)
            batch_op.create_foreign_key(
                FOREIGN_KEY, "tasks", ["user_id", "parent_id"], ["user_id", "id"]
            )
        for statement in triggers_after_0011() + SQLITE:
            op.execute(statement)
    else:
        for column in (parent_id, *counts):
            op.add_column("tasks", column)
        op.create_foreign_key(
            FOREIGN_KEY, "tasks", "tasks", ["user_id", "parent_id"], ["user_id", "id"]
        )
        for statement in POSTGRESQL:
            op.execute(statement)
    op.create_index(INDEX, "tasks", ["user_id", "parent_id", "position", "id"])


def downgrade():
    op.drop_index(INDEX, table_name="tasks")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("tasks", recreate="always") as batch_op:
            batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
            for name in ("parent_id", *COUNTED):
                batch_op.drop_column(name)
        for statement in triggers_after_0011():
            op.execute(statement)
    else:
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
        op.drop_constraint(FOREIGN_KEY, "tasks", type_="foreignkey")
        for name in ("parent_id", *COUNTED):
            op.drop_column("tasks", name)


def triggers_after_0011() -> list[str]:
    """SQLite's triggers on tasks (0011 added none), which a rebuild of the table drops."""
    return context.script.get_revision("0010").module.triggers_after_0009()
