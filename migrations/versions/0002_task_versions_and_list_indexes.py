"""task versions and list indexes

tasks.version counts changes: it is the ETag, and If-Match is checked against it inside the
UPDATE. One index per list order (updated_at, title) and one for the `completed` filter in the
default order, each led by user_id, so every page of the list is a range scan.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tasks_user_id_updated_at_id": ["user_id", "updated_at", "id"],
    "ix_tasks_user_id_title_id": ["user_id", "title", "id"],
    "ix_tasks_user_id_completed_created_at_id": ["user_id", "completed", "created_at", "id"],
}


def upgrade():
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns)


def downgrade():
    with op.batch_alter_table("tasks") as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_column("version")
