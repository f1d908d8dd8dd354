"""shared lists

- list_members: the owner's side of a shared list's members, keyed (user_id: the owner,
  list_id, member_id), gone with the list (composite key to lists).
- memberships: the member's side, keyed (user_id: the member, owner_id, list_id), gone with
  the member's account; written with list_members in one transaction.
- list_invitations: the owner's pending invitations, keyed (user_id, id), one per list and
  email, gone with the list.
- invitations: the invitee's side, keyed by the email (distributed by it, colocated with
  user_emails), for whoever has or later signs up with that email.

Downgrade drops the four: every shared list is its owner's alone again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ROLE_CHECK = "role IN ('editor', 'viewer')"


def upgrade():
    op.create_table(
        "list_members",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("list_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(ROLE_CHECK, name=op.f("ck_list_members_role_known")),
        sa.ForeignKeyConstraint(
            ["user_id", "list_id"],
            ["lists.user_id", "lists.id"],
            name="fk_list_members_user_id_lists",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "list_id", "member_id", name="pk_list_members"),
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("list_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(ROLE_CHECK, name=op.f("ck_memberships_role_known")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_memberships_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "owner_id", "list_id", name="pk_memberships"),
    )
    op.create_table(
        "list_invitations",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("list_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(ROLE_CHECK, name=op.f("ck_list_invitations_role_known")),
        sa.ForeignKeyConstraint(
            ["user_id", "list_id"],
            ["lists.user_id", "lists.id"],
            name="fk_list_invitations_user_id_lists",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name="pk_list_invitations"),
        sa.UniqueConstraint("user_id", "list_id", "email", name="uq_list_invitations_list_email"),
    )
    op.create_table(
        "invitations",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("invitation_id", sa.Uuid(), nullable=False),
        sa.Column("list_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("owner_email", sa.String(length=320), nullable=False),
        sa.Column("list_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(ROLE_CHECK, name=op.f("ck_invitations_role_known")),
        sa.PrimaryKeyConstraint("email", "owner_id", "invitation_id", name="pk_invitations"),
    )


def downgrade():
    op.drop_table("invitations")
    op.drop_table("list_invitations")
    op.drop_table("memberships")
    op.drop_table("list_members")
