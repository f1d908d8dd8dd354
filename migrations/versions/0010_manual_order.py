"""manual order

- tasks.position: a fractional index (todo/tasks/ordering.py), compared byte by byte (the "C"
  collation on PostgreSQL), ties broken by id; an index (user_id, position, id) for the
  `position` sort. Existing tasks get positions in the order they were created, per user.

Downgrade drops the column: the manual order is lost (tasks keep every other field).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import context, op
from fractional_indexing import generate_n_keys_between

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    dialect = op.get_bind().dialect.name
    collation = "C" if dialect == "postgresql" else None
    op.add_column(
        "tasks",
        sa.Column(
            "position",
            sa.String(64, collation=collation),
            server_default=sa.text("'a0'"),
            nullable=False,
        ),
    )
    number_existing_tasks()
    op.create_index("ix_tasks_user_id_position_id", "tasks", ["user_id", "position", "id"])


def number_existing_tasks():
    """Each user's tasks get evenly spaced keys in created_at order. Plain UPDATEs of
    position: no version moves, so no trigger numbers, counts or stamps them."""
    connection = op.get_bind()
    users = connection.execute(sa.text("SELECT DISTINCT user_id FROM tasks")).scalars().all()
    for user_id in users:
        ids = (
            connection.execute(
                sa.text("SELECT id FROM tasks WHERE user_id = :user_id ORDER BY created_at, id"),
                {"user_id": user_id},
            )
            .scalars()
            .all()
        )
        keys = generate_n_keys_between(None, None, len(ids))
        rows = [
            {"user_id": user_id, "id": i, "position": k} for i, k in zip(ids, keys, strict=True)
        ]
        for start in range(0, len(rows), BATCH):
            connection.execute(
                sa.text(
                    "UPDATE tasks SET position = :position WHERE user_id = :user_id AND id = :id"
                ),
                rows[start : start + BATCH],
            )


def downgrade():
    op.drop_index("ix_tasks_user_id_position_id", table_name="tasks")
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_column("position")
    if op.get_bind().dialect.name == "sqlite":  # the rebuild of tasks dropped its triggers
        for statement in triggers_after_0009():
            op.execute(statement)


def triggers_after_0009() -> list[str]:
    return context.script.get_revision("0008").module.triggers_of_0007() + (
        context.script.get_revision("0009").module.SQLITE
    )
