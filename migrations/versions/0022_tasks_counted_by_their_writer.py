"""tasks counted by their writer

A task inserted with its change's number (above 0: taken before it, todo/tasks/changes.py's
number_now) is counted by the statement that wrote it rather than by the row triggers: neither
the user's counters (users.task_count, completed_count: 0007) nor its parent's subtask counts
(0012) move for it. Every other insert carries 0 (numbered by the trigger) or -1 (pending in
a change, numbered at its end) and is counted as before. An import of thousands of tasks
adds them to each counter once, instead of updating the user's row once per task: in one
transaction, each of those updates walks every version of that row the transaction made
before it (20,000 tasks took a statement past its bound). On PostgreSQL a new subtask is
counted on its parent by 0007's function, before the insert, instead of by 0012's trigger
after it (which sees the number that function gave the row, not the one it was written with).

Downgrade restores the triggers of 0007 and 0012.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from alembic import context, op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

COUNT_HERE = "NEW.change_number <= 0"
# PostgreSQL: the trigger function of 0007 leaves a row its writer counts as it is, and counts
# a new subtask on its parent itself, before the insert, where 0012's trigger did after it:
# there the row's number is the one 0007's function gave it, which cannot be told apart from
# one its writer gave.
BEGIN = "    BEGIN\n        IF TG_OP = 'DELETE' THEN"
BEGIN_COUNTED = """    BEGIN
        IF TG_OP = 'INSERT' AND NEW.change_number > 0 THEN
            RETURN NEW;  -- numbered and counted by its writer
        END IF;
        IF TG_OP = 'INSERT' AND NEW.parent_id IS NOT NULL AND NEW.deleted_at IS NULL THEN
            UPDATE tasks SET subtasks_total = subtasks_total + 1,
                subtasks_completed = subtasks_completed + NEW.completed::int
            WHERE user_id = NEW.user_id AND id = NEW.parent_id;
        END IF;
        IF TG_OP = 'DELETE' THEN"""


def function_of_0007() -> str:
    [function] = [
        statement
        for statement in context.script.get_revision("0007").module.POSTGRESQL
        if "CREATE FUNCTION account_task_row()" in statement
    ]
    return function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")


def subtask_added(dialect: str) -> str:
    """0012's trigger on a new subtask."""
    module = context.script.get_revision("0012").module
    [trigger] = [
        statement
        for statement in (module.POSTGRESQL if dialect == "postgresql" else module.SQLITE)
        if "tasks_subtask_added" in statement
    ]
    return trigger


def on_sqlite(counted_here: bool) -> list[str]:
    """0007's counting of a new task and 0012's of a new subtask; `counted_here`: not for a
    row its writer counts (SQLite's triggers all read a new row as it was inserted)."""
    [added] = [
        statement
        for statement in context.script.get_revision("0007").module.SQLITE
        if "tasks_added_counted" in statement
    ]
    subtask = subtask_added("sqlite")
    if counted_here:
        added = added.replace(
            "WHEN NEW.deleted_at IS NULL", f"WHEN NEW.deleted_at IS NULL AND {COUNT_HERE}"
        )
        subtask = subtask.replace(
            "WHEN NEW.parent_id IS NOT NULL", f"WHEN NEW.parent_id IS NOT NULL AND {COUNT_HERE}"
        )
    return ["DROP TRIGGER tasks_added_counted", added, "DROP TRIGGER tasks_subtask_added", subtask]


def on_postgresql(counted_here: bool) -> list[str]:
    function = function_of_0007()
    if not counted_here:
        return [function, subtask_added("postgresql")]
    assert BEGIN in function
    return [function.replace(BEGIN, BEGIN_COUNTED), "DROP TRIGGER tasks_subtask_added ON tasks"]


def upgrade():
    dialect = op.get_bind().dialect.name
    for statement in on_postgresql(True) if dialect == "postgresql" else on_sqlite(True):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in on_postgresql(False) if dialect == "postgresql" else on_sqlite(False):
        op.execute(statement)
