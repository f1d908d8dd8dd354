"""lists

- lists: a user's lists of tasks, keyed (user_id, id), with a name, a position in the manual
  order (a fractional index, byte order), a version, a change number and a trash time, as
  tasks have them; purged_lists: what the change feed keeps of a list purged for good.
- tasks.list_id: the task's list, or null for the Inbox (not a row: every existing task is in
  it). A composite foreign key (user_id, list_id) -> lists (user_id, id): the database itself
  refuses a task of one user in another user's list. An index (user_id, list_id, position, id)
  for a list's tasks in order.

SQLite rebuilds tasks to add the foreign key, and with it the triggers of 0007 and 0009, which
are created again.

Downgrade drops lists and list_id: every task goes back to the Inbox (tasks of a list in the
trash stay in the trash), and list names and order are lost.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_tasks_user_id_lists"


def upgrade():
    dialect = op.get_bind().dialect.name
    collation = "C" if dialect == "postgresql" else None
    op.create_table(
        "lists",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("position", sa.String(64, collation=collation), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("change_number", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 100", name=op.f("ck_lists_name_length")),
        sa.CheckConstraint("length(trim(name)) = length(name)", name=op.f("ck_lists_name_trimmed")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_lists_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name="pk_lists"),
    )
    op.create_index("ix_lists_user_id_position_id", "lists", ["user_id", "position", "id"])
    op.create_index(
        "ix_lists_user_id_change_number_id", "lists", ["user_id", "change_number", "id"]
    )
    op.create_table(
        "purged_lists",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("change_number", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_purged_lists_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name="pk_purged_lists"),
    )
    op.create_index(
        "ix_purged_lists_user_id_change_number_id",
        "purged_lists",
        ["user_id", "change_number", "id"],
    )
    list_id = sa.Column("list_id", sa.Uuid(), nullable=True)
    if dialect == "sqlite":
        with op.batch_alter_table("tasks", recreate="always") as batch_op:
            batch_op.add_column(list_id)
            batch_op.create_foreign_key(
                FOREIGN_KEY, "lists", ["user_id", "list_id"], ["user_id", "id"]
            )
        for statement in triggers_after_0009():
            op.execute(statement)
    else:
        op.add_column("tasks", list_id)
        op.create_foreign_key(
            FOREIGN_KEY, "tasks", "lists", ["user_id", "list_id"], ["user_id", "id"]
        )
    op.create_index(
        "ix_tasks_user_id_list_id_position_id", "tasks", ["user_id", "list_id", "position", "id"]
    )


def downgrade():
    op.drop_index("ix_tasks_user_id_list_id_position_id", table_name="tasks")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("tasks", recreate="always") as batch_op:
            batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
            batch_op.drop_column("list_id")
        for statement in triggers_after_0009():
            op.execute(statement)
    else:
        op.drop_constraint(FOREIGN_KEY, "tasks", type_="foreignkey")
        op.drop_column("tasks", "list_id")
    op.drop_table("purged_lists")
    op.drop_table("lists")


def triggers_after_0009() -> list[str]:
    return context.script.get_revision("0010").module.triggers_after_0009()
