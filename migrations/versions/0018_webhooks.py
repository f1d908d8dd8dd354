"""webhooks

- webhook_endpoints: a user's endpoints, keyed (user_id, id), each with its URL, its event
  filter, its signing secret, its place in the change feed (read_number, read_after), the
  message in flight (pending_number, pending_after), its retries and its delivery lease.
- webhook_attempts: the last attempts of each endpoint, keyed (user_id, endpoint_id, number),
  gone with their endpoint.
- webhook_schedule: which endpoints exist, keyed (slot, user_id, endpoint_id), slot being the
  user id modulo 64: what the delivery processes scan (distributed by slot on Citus).

Downgrade drops the three: every endpoint and its log are gone.

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "webhook_endpoints",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("kinds", sa.String(length=20), nullable=True),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_number", sa.BigInteger(), nullable=False),
        sa.Column("read_after", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("pending_number", sa.BigInteger(), nullable=True),
        sa.Column("pending_after", sa.Uuid(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_token", sa.Uuid(), nullable=True),
        sa.Column("attempts_made", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "id"),
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id", "endpoint_id"],
            ["webhook_endpoints.user_id", "webhook_endpoints.id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "endpoint_id", "number"),
    )
    op.create_table(
        "webhook_schedule",
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("slot", "user_id", "endpoint_id"),
    )


def downgrade():
    op.drop_table("webhook_schedule")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_endpoints")
