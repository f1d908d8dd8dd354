"""calendar subscriptions

- calendar_subscriptions: a user's calendar feeds, keyed (user_id, id): the list it shows
  (null: every list; gone with the list, through the composite key), events or VTODOs, the
  digest of its URL's secret, when it was made.
- calendar_feeds: the lookup from a secret's digest (unique across users) to its user and
  subscription, keyed by the digest.

Downgrade drops both: every feed URL stops answering.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_subscriptions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("list_id", sa.Uuid(), nullable=True),
        sa.Column("events", sa.Boolean(), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["user_id", "list_id"], ["lists.user_id", "lists.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "id"),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("secret_digest"),
    )


def downgrade():
    op.drop_table("calendar_feeds")
    op.drop_table("calendar_subscriptions")
