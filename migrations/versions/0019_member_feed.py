"""a member's change feed

- membership_changes: the member's side of each join, role change and end of a membership,
  keyed (user_id: the member, change_number): each takes the member's next change number, so
  the member's feed brings it in order with their own changes. An end keeps the ids of the
  list's tasks as the owner's side had them then (`task_ids`), which the feed sends as
  removals even once the owner's account is gone; a join keeps the owner's change number
  then (`owner_number`), from which an end looks for the tasks that left the list.
- list_departures: the owner's side of each task that left a shared list (moved to another
  list or the Inbox), keyed (user_id: the owner, change_number, task_id, list_id): what a
  member's feed reads to tell the member the task is no longer theirs to see. Written by a
  trigger on tasks, only when the list left has members; inside a change (PENDING) numbered
  at its end, on SQLite by a trigger on users, on PostgreSQL by the statement that takes the
  number.
- purged_tasks.list_id: the list a task was in when purged, so a member's feed tells the
  members of that list (null for the Inbox, and for tasks purged before this revision).

Downgrade drops the two tables and the column: a member's feed is their own data again.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

SHARED_LIST_LEFT = """EXISTS (SELECT 1 FROM list_members
        WHERE list_members.user_id = OLD.user_id AND list_members.list_id = OLD.list_id)"""
MOVED = "OLD.list_id IS NOT NULL AND OLD.list_id IS DISTINCT FROM NEW.list_id"
POSTGRESQL = [
    f"""CREATE FUNCTION record_list_departure() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF {SHARED_LIST_LEFT} THEN
            INSERT INTO list_departures (user_id, change_number, task_id, list_id)
            VALUES (NEW.user_id, NEW.change_number, NEW.id, OLD.list_id)
            ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER tasks_departed AFTER UPDATE OF list_id ON tasks FOR EACH ROW
    WHEN ({MOVED}) EXECUTE FUNCTION record_list_departure()""",
]
POSTGRESQL_DOWN = ["DROP TRIGGER tasks_departed ON tasks", "DROP FUNCTION record_list_departure()"]

# SQLite numbers a single-row write in an AFTER trigger (0007's tasks_change_numbered): the
# departure is recorded there, after the number, with it; a write inside a change (PENDING)
# records it at once, numbered with the change's other rows at its end.
SQLITE_MOVED = MOVED.replace("IS DISTINCT FROM", "IS NOT")
NUMBER_THE_ROW = """
        UPDATE users SET change_number = change_number + 1 WHERE id = NEW.user_id;
        UPDATE tasks SET change_number = (SELECT change_number FROM users WHERE id = NEW.user_id)
        WHERE user_id = NEW.user_id AND id = NEW.id;"""
NUMBERED_WHEN = """AFTER UPDATE OF version ON tasks
    WHEN NEW.version IS NOT OLD.version AND NEW.change_number = OLD.change_number
        AND NEW.change_number >= 0"""
SQLITE = [
    "DROP TRIGGER tasks_change_numbered",
    f"""CREATE TRIGGER tasks_change_numbered {NUMBERED_WHEN}
    BEGIN{NUMBER_THE_ROW}
        INSERT OR IGNORE INTO list_departures (user_id, change_number, task_id, list_id)
        SELECT NEW.user_id, change_number, NEW.id, OLD.list_id FROM users
        WHERE id = NEW.user_id AND {SQLITE_MOVED} AND {SHARED_LIST_LEFT};
    END""",
    f"""CREATE TRIGGER tasks_departed_pending AFTER UPDATE OF list_id ON tasks
    WHEN NEW.change_number < 0 AND {SQLITE_MOVED}
    BEGIN
        INSERT OR IGNORE INTO list_departures (user_id, change_number, task_id, list_id)
        SELECT NEW.user_id, -1, NEW.id, OLD.list_id WHERE {SHARED_LIST_LEFT};
    END""",
]
# This revision's triggers on tasks, which a later rebuild of the table re-creates (0020).
SQLITE_TASK_TRIGGERS = SQLITE[1:]
SQLITE += [
    # A change's number (taken at its end) given to the departures it wrote: PostgreSQL
    # does it in the statement that takes the number (todo/tasks/changes.py).
    """CREATE TRIGGER users_departures_numbered AFTER UPDATE OF change_number ON users
    BEGIN
        UPDATE list_departures SET change_number = NEW.change_number
        WHERE user_id = NEW.id AND change_number = -1;
    END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER users_departures_numbered",
    "DROP TRIGGER tasks_departed_pending",
    "DROP TRIGGER tasks_change_numbered",
    f"""CREATE TRIGGER tasks_change_numbered {NUMBERED_WHEN}
    BEGIN{NUMBER_THE_ROW}
    END""",
]


def upgrade():
    op.create_table(
        "membership_changes",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("change_number", sa.BigInteger(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("list_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("happened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_number", sa.BigInteger(), nullable=True),
        sa.Column("task_ids", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_membership_changes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "change_number", name=op.f("pk_membership_changes")),
    )
    op.create_table(
        "list_departures",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("change_number", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("list_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_list_departures_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "change_number", "task_id", "list_id", name=op.f("pk_list_departures")
        ),
    )
    op.add_column("purged_tasks", sa.Column("list_id", sa.Uuid(), nullable=True))
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL if dialect == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_DOWN if dialect == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    with op.batch_alter_table("purged_tasks") as batch_op:
        batch_op.drop_column("list_id")
    op.drop_table("list_departures")
    op.drop_table("membership_changes")
