"""tasks counted by their writer

A task inserted with its change's number (above 0: taken before it, todo/tasks/changes.py's
number_now) is counted by the statement that wrote it rather than by the row triggers: neither
the user's counters (users.task_count, completed_count: 0007) nor its parent's subtask counts
(0012) move for it. Every other insert carries 0 (numbered by the trigger) or -1 (pending in
a change, numbered at its end) and is counted as before. An import of thousands of tasks
adds them to each counter once, instead of updating the user's row once per task: in one
transaction, each of those updates walks every version of that row the transaction made
before it (20,000 tasks took a statement past its bound).

Downgrade restores the triggers of 0007 and 0012.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from alembic import context, op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

COUNT_HERE = "NEW.change_number <= 0"
# The trigger function of 0007, which leaves a row its writer counts as it is.
BEGIN = "    BEGIN\n        IF TG_OP = 'DELETE' THEN"
BEGIN_COUNTED = """    BEGIN
        IF TG_OP = 'INSERT' AND NEW.change_number > 0 THEN
            RETURN NEW;  -- numbered and counted by its writer
        END IF;
        IF TG_OP = 'DELETE' THEN"""


def function_of_0007() -> str:
    [function] = [
        statement
        for statement in context.script.get_revision("0007").module.POSTGRESQL
        if "CREATE FUNCTION account_task_row()" in statement
    ]
    return function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")


def subtask_added(dialect: str, counted_here: bool) -> list[str]:
    """0012's trigger on a new subtask; `counted_here`: not for a row its writer counts."""
    module = context.script.get_revision("0012").module
    [trigger] = [
        statement
        for statement in (module.POSTGRESQL if dialect == "postgresql" else module.SQLITE)
        if "tasks_subtask_added" in statement
    ]
    when = "NEW.parent_id IS NOT NULL"
    if counted_here:
        trigger = trigger.replace(when, f"{when} AND {COUNT_HERE}")
    drop = "DROP TRIGGER tasks_subtask_added" + (" ON tasks" if dialect == "postgresql" else "")
    return [drop, trigger]


def added_counted_on_sqlite(counted_here: bool) -> list[str]:
    """0007's counting of a new task on SQLite; `counted_here`: not for a row its writer
    counts."""
    [trigger] = [
        statement
        for statement in context.script.get_revision("0007").module.SQLITE
        if "tasks_added_counted" in statement
    ]
    when = "WHEN NEW.deleted_at IS NULL"
    if counted_here:
        trigger = trigger.replace(when, f"{when} AND {COUNT_HERE}")
    return ["DROP TRIGGER tasks_added_counted", trigger]


def statements(dialect: str, counted_here: bool) -> list[str]:
    if dialect == "postgresql":
        function = function_of_0007()
        if counted_here:
            assert BEGIN in function
            function = function.replace(BEGIN, BEGIN_COUNTED)
        return [function, *subtask_added(dialect, counted_here)]
    return [*added_counted_on_sqlite(counted_here), *subtask_added(dialect, counted_here)]


def upgrade():
    for statement in statements(op.get_bind().dialect.name, counted_here=True):
        op.execute(statement)


def downgrade():
    for statement in statements(op.get_bind().dialect.name, counted_here=False):
        op.execute(statement)
