"""change feed and trash

- users.change_number: each user's change counter. Every write that changes a user's tasks
  takes the next number while holding that user's row (todo/tasks/changes.py) and stamps it on
  the rows it changes: the change feed reads what is above a client's number.
- tasks.change_number, tasks.deleted_at: the number of a task's last change, and when it went
  to the trash (null while it is live). Triggers take the number for a write of one row (after
  the row's lock, so a user's row is always locked after the task's), and the counter's row
  lock, held to commit, hands numbers out in commit order. Existing tasks are numbered 1..n
  per user in the order they were created, and each user's counter starts at their n.
- purged_tasks: what is left of a task purged for good (its id, when it was deleted and
  purged, the change's number), so the feed can tell clients, and its id is never reused;
  kept while the account lives.
- The counters (users.task_count, completed_count) count live tasks only: the triggers of
  0006 (PostgreSQL) and 0005 (SQLite) are replaced by ones that also watch deleted_at.

Downgrade empties the trash (the tasks in it are deleted for good: the older schema has no
trash to keep them in), drops the tombstones and the numbers, and restores the older triggers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# PostgreSQL: one BEFORE trigger per row does what the two of 0006 did (count live tasks,
# stamp updated_at) and numbers the change, with at most one UPDATE of the user's row: a
# write that changes a task (its version moves) or adds one takes the user's next number,
# after the task's lock, unless the write set a number itself or the row is pending (-1:
# written by a change of several statements, which numbers all its rows at its end:
# todo/tasks/changes.py). A statement that then fails takes its counts and number back with
# it. The trash is not counted: moving a task there or back counts as removing or adding it.
POSTGRESQL = [
    *(f"DROP TRIGGER {name} ON tasks" for name in ("tasks_counted", "tasks_change_stamped")),
    "DROP FUNCTION count_user_task()",
    "DROP FUNCTION stamp_task_change()",
    """CREATE FUNCTION account_task_row() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        was_live boolean := TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL;
        is_live boolean := TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL;
        was_done boolean := was_live AND OLD.completed;
        is_done boolean := is_live AND NEW.completed;
        changed boolean := TG_OP = 'UPDATE' AND NEW.version IS DISTINCT FROM OLD.version;
        numbered boolean := CASE TG_OP
            WHEN 'INSERT' THEN NEW.change_number = 0
            WHEN 'UPDATE' THEN changed AND NEW.change_number = OLD.change_number
                AND NEW.change_number >= 0
            ELSE false END;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF was_live THEN
                UPDATE users SET task_count = task_count - 1,
                    completed_count = completed_count - was_done::int
                WHERE id = OLD.user_id;
            END IF;
            RETURN OLD;
        END IF;
        IF numbered THEN
            UPDATE users SET change_number = change_number + 1,
                task_count = task_count + is_live::int - was_live::int,
                completed_count = completed_count + is_done::int - was_done::int
            WHERE id = NEW.user_id RETURNING change_number INTO NEW.change_number;
        ELSIF was_live IS DISTINCT FROM is_live OR was_done IS DISTINCT FROM is_done THEN
            UPDATE users SET task_count = task_count + is_live::int - was_live::int,
                completed_count = completed_count + is_done::int - was_done::int
            WHERE id = NEW.user_id;
        END IF;
        IF changed THEN
            NEW.updated_at := clock_timestamp();  -- after the user's row: in change order
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER tasks_accounted BEFORE INSERT OR DELETE OR UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION account_task_row()""",
]
POSTGRESQL_DOWN = ["DROP TRIGGER tasks_accounted ON tasks", "DROP FUNCTION account_task_row()"]

LIVE_NEW, LIVE_OLD = "(NEW.deleted_at IS NULL)", "(OLD.deleted_at IS NULL)"
SQLITE = [
    """CREATE TRIGGER tasks_added_counted AFTER INSERT ON tasks WHEN NEW.deleted_at IS NULL
    BEGIN
        UPDATE users SET task_count = task_count + 1,
            completed_count = completed_count + NEW.completed
        WHERE id = NEW.user_id;
    END""",
    """CREATE TRIGGER tasks_removed_counted AFTER DELETE ON tasks WHEN OLD.deleted_at IS NULL
    BEGIN
        UPDATE users SET task_count = task_count - 1,
            completed_count = completed_count - OLD.completed
        WHERE id = OLD.user_id;
    END""",
    f"""CREATE TRIGGER tasks_completion_counted AFTER UPDATE OF completed, deleted_at ON tasks
    WHEN OLD.completed IS NOT NEW.completed OR {LIVE_OLD} IS NOT {LIVE_NEW}
    BEGIN
        UPDATE users SET task_count = task_count + {LIVE_NEW} - {LIVE_OLD},
            completed_count = completed_count + ({LIVE_NEW} AND NEW.completed)
                - ({LIVE_OLD} AND OLD.completed)
        WHERE id = NEW.user_id;
    END""",
]

# SQLite cannot change NEW in a trigger: the number is written back by a second UPDATE, which
# fires no trigger (recursive triggers are off, and it sets change_number only).
NUMBER_THE_ROW = """BEGIN
        UPDATE users SET change_number = change_number + 1 WHERE id = NEW.user_id;
        UPDATE tasks SET change_number = (SELECT change_number FROM users WHERE id = NEW.user_id)
        WHERE user_id = NEW.user_id AND id = NEW.id;
    END"""
SQLITE += [
    f"""CREATE TRIGGER tasks_numbered AFTER INSERT ON tasks WHEN NEW.change_number = 0
    {NUMBER_THE_ROW}""",
    f"""CREATE TRIGGER tasks_change_numbered AFTER UPDATE OF version ON tasks
    WHEN NEW.version IS NOT OLD.version AND NEW.change_number = OLD.change_number
        AND NEW.change_number >= 0
    {NUMBER_THE_ROW}""",
]
SQLITE_DOWN = ["DROP TRIGGER tasks_change_numbered", "DROP TRIGGER tasks_numbered"]

# Existing tasks numbered per user in the order they were made; each counter at its last.
NUMBER_TASKS = """UPDATE tasks SET change_number = numbered.n
    FROM (SELECT user_id, id,
                 row_number() OVER (PARTITION BY user_id ORDER BY created_at, id) AS n
          FROM tasks) AS numbered
    WHERE tasks.user_id = numbered.user_id AND tasks.id = numbered.id"""
NUMBER_USERS = """UPDATE users SET change_number =
    (SELECT coalesce(max(change_number), 0) FROM tasks WHERE tasks.user_id = users.id)"""


def older_triggers(dialect: str) -> list[str]:
    """The triggers this revision replaces: 0006's counting and stamping on PostgreSQL, 0005's
    counting on SQLite."""
    if dialect == "postgresql":
        return context.script.get_revision("0006").module.COUNT_A_ROW
    return context.script.get_revision("0005").module.SQLITE


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")  # numbered, then counted
    # Plain ADD COLUMN, which SQLite does in place (a rebuild of users would trip over the
    # triggers on tasks that name it).
    number = {"server_default": sa.text("0"), "nullable": False}
    op.add_column("users", sa.Column("change_number", sa.BigInteger(), **number))
    op.add_column("tasks", sa.Column("change_number", sa.BigInteger(), **number))
    op.add_column("tasks", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_tasks_user_id_change_number_id", "tasks", ["user_id", "change_number", "id"]
    )
    op.create_index("ix_tasks_user_id_deleted_at_id", "tasks", ["user_id", "deleted_at", "id"])
    op.create_table(
        "purged_tasks",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("change_number", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_purged_tasks_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name="pk_purged_tasks"),
    )
    op.create_index(
        "ix_purged_tasks_user_id_change_number_id",
        "purged_tasks",
        ["user_id", "change_number", "id"],
    )
    op.execute(NUMBER_TASKS)
    op.execute(NUMBER_USERS)
    if dialect == "sqlite":
        for statement in context.script.get_revision("0005").module.DROP["sqlite"]:
            op.execute(statement)
    for statement in POSTGRESQL if dialect == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")
    # The trash is emptied: the older schema cannot tell a trashed task from a live one.
    op.execute("DELETE FROM tasks WHERE deleted_at IS NOT NULL")
    if dialect == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
    else:
        for statement in SQLITE_DOWN + context.script.get_revision("0005").module.DROP["sqlite"]:
            op.execute(statement)
    op.drop_index("ix_purged_tasks_user_id_change_number_id", table_name="purged_tasks")
    op.drop_table("purged_tasks")
    op.drop_index("ix_tasks_user_id_deleted_at_id", table_name="tasks")
    op.drop_index("ix_tasks_user_id_change_number_id", table_name="tasks")
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("change_number")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("change_number")
    # Last: SQLite rebuilds the tables to drop their columns, and their triggers with them.
    for statement in older_triggers(dialect):
        op.execute(statement)
