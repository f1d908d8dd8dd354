"""labels

- labels: a user's labels, keyed (user_id, id), one per identity (user_id, key: the name's
  NFKC form casefolded), with the name as first spelled.
- task_labels: which task carries which label, keyed (user_id, task_id, label_id), through
  composite foreign keys to tasks and labels (the database refuses a task carrying another
  user's label), gone with either; an index (user_id, label_id, task_id) for a label's tasks.
- tasks.labels: the names as answers give them, in the task's order (existing tasks: none).

Downgrade drops the three: every task loses its labels.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "labels",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "id"),
        sa.UniqueConstraint("user_id", "key", name="uq_labels_user_id_key"),
    )
    op.create_table(
        "task_labels",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("label_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id", "task_id"], ["tasks.user_id", "tasks.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "label_id"], ["labels.user_id", "labels.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "task_id", "label_id"),
    )
    op.create_index(
        "ix_task_labels_user_id_label_id_task_id",
        "task_labels",
        ["user_id", "label_id", "task_id"],
    )
    op.add_column(
        "tasks",
        sa.Column(
            "labels",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
    )


def downgrade():
    op.drop_index("ix_task_labels_user_id_label_id_task_id", table_name="task_labels")
    op.drop_table("task_labels")
    op.drop_table("labels")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE tasks DROP COLUMN labels")  # native since SQLite 3.35
    else:
        op.drop_column("tasks", "labels")
