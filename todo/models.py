"""User and Task, in SQLAlchemy 2 typed style, portable across SQLite and PostgreSQL."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    TypeDecorator,
    bindparam,
    cast,
    func,
    text,
    type_coerce,
)
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db

TITLE_MAX = 500
DESCRIPTION_MAX = 10_000


def utcnow() -> datetime:
    return datetime.now(UTC)


def change_time(dialect: str):
    """The time to stamp on a change. On PostgreSQL, clock_timestamp() is read after the
    UPDATE has waited for the row's lock, so a later change never carries an earlier time.
    SQLite has no microsecond clock: the app's clock is read just before the write (the
    parameter `now`), so two writers racing on one task there can still stamp out of order."""
    if dialect == "postgresql":
        return func.clock_timestamp(type_=UTCDateTime())
    return bindparam("now", type_=UTCDateTime())


class UTCDateTime(TypeDecorator):
    """timestamptz on PostgreSQL; SQLite keeps no zone, so UTC goes in and comes back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and dialect.name == "sqlite":
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UUIDText(TypeDecorator):
    """A uuid column read as the text that answers carry. The statement casts it to text:
    psycopg2 would otherwise build a uuid.UUID for each one (~1 us), only for it to be
    printed back. SQLite stores 32 hex digits, which are given their dashes here."""

    impl = String
    cache_ok = True

    def column_expression(self, column):
        return cast(column, self)

    def process_result_value(self, value, dialect):
        if value is None or dialect.name == "postgresql":
            return value
        return str(uuid.UUID(value))


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


class Task(db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(f"length(title) BETWEEN 1 AND {TITLE_MAX}", name="title_length"),
        CheckConstraint("length(trim(title)) = length(title)", name="title_trimmed"),
        CheckConstraint(
            f"description IS NULL OR length(description) <= {DESCRIPTION_MAX}",
            name="description_length",
        ),
        # "This user's tasks in order", for each sort of the list (ties broken by id), and
        # the default order within the `completed` filter: a page is a range scan of one index.
        Index("ix_tasks_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_tasks_user_id_updated_at_id", "user_id", "updated_at", "id"),
        Index("ix_tasks_user_id_title_id", "user_id", "title", "id"),
        Index(
            "ix_tasks_user_id_completed_created_at_id", "user_id", "completed", "created_at", "id"
        ),
    )

    # Keyed on user_id first so the table can be distributed by user (Citus).
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str | None] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Bumped by every change; the ETag, and what If-Match is checked against inside the UPDATE.
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))


class IdempotencyKey(db.Model):
    """The first answer to a POST sent with an Idempotency-Key, replayed to its retries."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    headers: Mapped[dict] = mapped_column(JSON)
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# The tables, for the Core statements that read and write rows without the ORM.
users, tasks, revoked_tokens = User.__table__, Task.__table__, RevokedToken.__table__
# A task as the statements of todo/task_store.py and todo/pagination.py give it back.
TASK_ROW = (
    type_coerce(tasks.c.id, UUIDText()).label("id"),
    type_coerce(tasks.c.user_id, UUIDText()).label("user_id"),
    *(column for column in tasks.c if column.name not in ("id", "user_id")),
)
