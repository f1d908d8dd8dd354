"""Who shares which list, kept from both sides, and the invitations that wait for an answer.

Every table is keyed by the user whose side it is first, so each side stays on its user's
shard (docs/scaling-out.md): the owner's `list_members` ("who can see my list") and the
member's `memberships` ("what is shared with me") hold the same pairs, written in one
transaction by every change, so the two never disagree. An invitation is the owner's row
(`list_invitations`); the invitee, who may have no account yet, finds it by email through
`invitations`, a lookup keyed (and distributed) by the email, as `user_emails` is."""

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import UTCDateTime
from ..extensions import db

ROLES = ("editor", "viewer")
ROLE_LENGTH = 16
EMAIL_LENGTH = 320  # as users.email
MOST_MEMBERS = 25  # members and pending invitations of one list
# Lists shared with one member: bounds what a poll of the member's feed reads (a read per
# owner) and its cursor (a position per owner).
MOST_SHARED = 100
ROLE_CHECK = "role IN ('editor', 'viewer')"


class ListMember(db.Model):
    """The owner's side: a member of one of the owner's lists. Gone with the list."""

    __tablename__ = "list_members"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "list_id"], ["lists.user_id", "lists.id"], ondelete="CASCADE"
        ),
        CheckConstraint(ROLE_CHECK, name="role_known"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the owner
    list_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(ROLE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Membership(db.Model):
    """The member's side: a list of another user's shared with this one. No key to the
    owner's rows, which live on another shard; the store writes both sides together."""

    __tablename__ = "memberships"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="role_known"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )  # the member
    owner_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    list_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(ROLE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ListInvitation(db.Model):
    """The owner's side of a pending invitation: one per list and email. Gone with the list."""

    __tablename__ = "list_invitations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "list_id"], ["lists.user_id", "lists.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("user_id", "list_id", "email", name="uq_list_invitations_list_email"),
        CheckConstraint(ROLE_CHECK, name="role_known"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the owner
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    list_id: Mapped[uuid.UUID]
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    role: Mapped[str] = mapped_column(String(ROLE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Invitation(db.Model):
    """The invitee's side: the invitations waiting for an email, whoever has it (or will).
    Keyed by the email; what the invitee is shown is copied here (who invites, to what)."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="role_known"),)

    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    invitation_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    list_id: Mapped[uuid.UUID]
    role: Mapped[str] = mapped_column(String(ROLE_LENGTH))
    owner_email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    list_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MembershipChange(db.Model):
    """The member's side of a join, a role change or an end of a membership, numbered with
    the member's own changes so that their feed brings it in order (todo/sync/shared.py). An
    end keeps the ids of the list's tasks as they were (`task_ids`): the feed sends them as
    removals, even once the owner's account, and every row of it, is gone."""

    __tablename__ = "membership_changes"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )  # the member
    change_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    owner_id: Mapped[uuid.UUID]
    list_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    owner_number: Mapped[int | None] = mapped_column(BigInteger)  # a join's: the owner's then
    task_ids: Mapped[list | None] = mapped_column(JSON)


class ListDeparture(db.Model):
    """The owner's side of a task that left a shared list (to another list, or the Inbox),
    numbered with the change that moved it: the members' feeds read it to take the task away
    (no fan-out: one row, however many members). Written by a trigger (migration 0019), only
    when the list left has members."""

    __tablename__ = "list_departures"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )  # the owner
    change_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    list_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


list_members, memberships = ListMember.__table__, Membership.__table__
membership_changes, list_departures = MembershipChange.__table__, ListDeparture.__table__
list_invitations, invitations = ListInvitation.__table__, Invitation.__table__
