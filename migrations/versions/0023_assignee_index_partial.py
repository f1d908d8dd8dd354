"""the assignee index holds assigned tasks only

ix_tasks_user_id_assignee_id_created_at_id (0020, the `assignee=` filter) keeps only the tasks
assigned to someone (`WHERE assignee_id IS NOT NULL`): most tasks are assigned to nobody, and
each write of one (a create, a PUT, a completion) no longer maintains an entry for it. The
filter `assignee=<id>` reads the same index (an equality implies the condition); `unassigned`
(most of the tasks) reads the list's own order and skips the assigned ones, as it would have
read most of the full index.

The index is rebuilt with the tasks as they are; so is the full one by the downgrade. No row
changes either way.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

INDEX = "ix_tasks_user_id_assignee_id_created_at_id"
COLUMNS = ["user_id", "assignee_id", "created_at", "id"]
ASSIGNED = sa.text("assignee_id IS NOT NULL")


def upgrade():
    op.drop_index(INDEX, table_name="tasks")
    op.create_index(INDEX, "tasks", COLUMNS, postgresql_where=ASSIGNED, sqlite_where=ASSIGNED)


def downgrade():
    op.drop_index(INDEX, table_name="tasks")
    op.create_index(INDEX, "tasks", COLUMNS)
