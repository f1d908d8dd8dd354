"""Accounts' tables: users, and the tokens they logged out."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import UTCDateTime, utcnow
from ..extensions import db


class User(db.Model):
    __tablename__ = "users"

    # The distribution column (Citus): every per-user table is keyed by this id first.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Unique through user_emails, not a constraint here: one across users could not hold
    # once users are spread over several servers.
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Tokens carry the generation they were issued in; a password change starts a new one,
    # which revokes every older token at once (exactly: no clock, no same-second ambiguity).
    token_generation: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Kept by triggers on tasks (migrations 0005, 0006), for the list's X-Total-Count.
    task_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    completed_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # The number of the user's last change to their tasks (todo/tasks/changes.py).
    change_number: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # The user's IANA zone (null: UTC): where "today" and "overdue" are, and all-day and
    # floating due dates fall.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The jtis of the user's revoked_tokens rows, each followed by a space, kept by triggers
    # (migration 0014): a token's statements find its revocation on this row, which they
    # read anyway, instead of in a table of its own. Never loaded with the account.
    revoked_jtis: Mapped[str] = mapped_column(
        Text, default="", server_default=text("''"), deferred=True
    )


class RevokedToken(db.Model):
    """A token logged out before it expired; kept until then, so it stays refused."""

    __tablename__ = "revoked_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class UserEmail(db.Model):
    """Who has an email: the lookup that keeps emails unique across users, and finds the
    account a login is for. Keyed (and, on Citus, distributed) by the email; no foreign key
    to users, which a table distributed otherwise cannot have: the account's store adds and
    removes both rows together."""

    __tablename__ = "user_emails"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    user_id: Mapped[uuid.UUID]


# The tables, for the Core statements that read and write rows without the ORM.
users, revoked_tokens, user_emails = User.__table__, RevokedToken.__table__, UserEmail.__table__
