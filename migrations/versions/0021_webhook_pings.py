"""webhook pings queued for the delivery processes

- webhook_endpoints.ping_id: the `webhook-id` of a test ping asked for and not yet sent (null:
  none). A ping is sent by `flask todo deliver`, not in the request that asks for it.

Downgrade drops the column: a ping asked for and not yet sent is not sent.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("webhook_endpoints", sa.Column("ping_id", sa.String(length=100), nullable=True))


def downgrade():
    # In place on SQLite too (3.35 and later): a rebuilt webhook_endpoints would be dropped
    # first, and the drop would cascade to every endpoint's log.
    op.drop_column("webhook_endpoints", "ping_id")
