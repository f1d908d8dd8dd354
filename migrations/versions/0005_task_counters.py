"""task counters

users.task_count and users.completed_count: how many tasks each user has, and how many of them
are done, kept by triggers on tasks (insert, delete, a change of `completed`) within the
statement that changes them. The list's X-Total-Count reads them instead of counting a user's
tasks, which took time in proportion to their number (23 ms at 100,000). Existing users are
counted once here.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The same three changes for both databases: tasks added, tasks removed, tasks whose
# `completed` changed (a task never moves to another user: user_id is part of its key).
ADDED = "task_count = task_count + {n}, completed_count = completed_count + {done}"
REMOVED = "task_count = task_count - {n}, completed_count = completed_count - {done}"
COMPLETION = "completed_count = completed_count + {done}"

# PostgreSQL counts once per statement, over its transition tables, so a bulk load of many
# tasks for one user updates that user's row once, not once per task.
PER_USER = """(SELECT user_id, count(*) AS n, count(*) FILTER (WHERE completed) AS done
              FROM {rows} GROUP BY user_id) AS changed"""
COMPLETIONS = """(SELECT user_id, sum(CASE WHEN completed THEN sign ELSE 0 END) AS done
                 FROM (SELECT user_id, completed, 1 AS sign FROM new_rows
                       UNION ALL SELECT user_id, completed, -1 FROM old_rows) AS sides
                 GROUP BY user_id) AS changed"""
COUNTED = {"n": "changed.n", "done": "changed.done"}
POSTGRESQL = [
    f"""CREATE FUNCTION count_user_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE users SET {ADDED.format(**COUNTED)} FROM {PER_USER.format(rows="new_rows")}
            WHERE users.id = changed.user_id;
        ELSIF TG_OP = 'DELETE' THEN
            UPDATE users SET {REMOVED.format(**COUNTED)} FROM {PER_USER.format(rows="old_rows")}
            WHERE users.id = changed.user_id;
        ELSE
            UPDATE users SET {COMPLETION.format(**COUNTED)} FROM {COMPLETIONS}
            WHERE users.id = changed.user_id AND changed.done <> 0;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER tasks_added_counted AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_user_tasks()""",
    """CREATE TRIGGER tasks_removed_counted AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_user_tasks()""",
    """CREATE TRIGGER tasks_completion_counted AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_user_tasks()""",
]
SQLITE = [
    f"""CREATE TRIGGER tasks_added_counted AFTER INSERT ON tasks BEGIN
        UPDATE users SET {ADDED.format(n=1, done="NEW.completed")} WHERE id = NEW.user_id;
    END""",
    f"""CREATE TRIGGER tasks_removed_counted AFTER DELETE ON tasks BEGIN
        UPDATE users SET {REMOVED.format(n=1, done="OLD.completed")} WHERE id = OLD.user_id;
    END""",
    f"""CREATE TRIGGER tasks_completion_counted AFTER UPDATE OF completed ON tasks
    WHEN OLD.completed IS NOT NEW.completed BEGIN
        UPDATE users SET {COMPLETION.format(done="NEW.completed - OLD.completed")}
        WHERE id = NEW.user_id;
    END""",
]
CREATE = {"postgresql": POSTGRESQL, "sqlite": SQLITE}
DROP = {
    "postgresql": [
        "DROP TRIGGER tasks_completion_counted ON tasks",
        "DROP TRIGGER tasks_removed_counted ON tasks",
        "DROP TRIGGER tasks_added_counted ON tasks",
        "DROP FUNCTION count_user_tasks()",
    ],
    "sqlite": [
        "DROP TRIGGER tasks_completion_counted",
        "DROP TRIGGER tasks_removed_counted",
        "DROP TRIGGER tasks_added_counted",
    ],
}


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # Writers to tasks wait until the triggers exist: none can slip between the count
        # below and the triggers and be missed for good. Reads go on.
        op.execute("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")
    with op.batch_alter_table("users") as batch_op:
        for name in ("task_count", "completed_count"):
            batch_op.add_column(
                sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)
            )
    op.execute(
        """UPDATE users SET
        task_count = (SELECT count(*) FROM tasks WHERE tasks.user_id = users.id),
        completed_count = (SELECT count(*) FROM tasks
                           WHERE tasks.user_id = users.id AND tasks.completed)"""
    )
    for statement in CREATE[dialect]:
        op.execute(statement)


def downgrade():
    for statement in DROP[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("completed_count")
        batch_op.drop_column("task_count")
