"""Accounts' tables: users, and the tokens they logged out."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import UTCDateTime, utcnow
from ..extensions import db


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Tokens carry the generation they were issued in; a password change starts a new one,
    # which revokes every older token at once (exactly: no clock, no same-second ambiguity).
    token_generation: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Kept by triggers on tasks (migration 0005), for the list's X-Total-Count.
    task_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    completed_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class RevokedToken(db.Model):
    """A token logged out before it expired; kept until then, so it stays refused."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# The tables, for the Core statements that read and write rows without the ORM.
users, revoked_tokens = User.__table__, RevokedToken.__table__
