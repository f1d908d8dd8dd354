"""The lists table, and what is kept of a list purged for good."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    literal_column,
    text,
    type_coerce,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import Tombstone, UTCDateTime, UUIDText
from ..extensions import db

NAME_MAX = 100
MOST_LIVE = 500  # live lists a user may have
POSITION_MAX = 64
# A position key compared byte by byte: the "C" collation on PostgreSQL (SQLite compares bytes).
POSITION_TYPE = String(POSITION_MAX).with_variant(String(POSITION_MAX, collation="C"), "postgresql")


class TaskList(db.Model):
    """A list of tasks. Tasks point at it through (user_id, list_id), so the database refuses
    a task in another user's list; a task with no list is in the Inbox, which is not a row."""

    __tablename__ = "lists"
    __table_args__ = (
        CheckConstraint(f"length(name) BETWEEN 1 AND {NAME_MAX}", name="name_length"),
        CheckConstraint("length(trim(name)) = length(name)", name="name_trimmed"),
        Index("ix_lists_user_id_position_id", "user_id", "position", "id"),
        Index("ix_lists_user_id_change_number_id", "user_id", "change_number", "id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    position: Mapped[str] = mapped_column(POSITION_TYPE)
    version: Mapped[int] = mapped_column(server_default=text("1"))
    change_number: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PurgedList(Tombstone, db.Model):
    """A purged list's tombstone, for the change feed (as tasks/models.py's PurgedTask)."""

    __tablename__ = "purged_lists"
    __table_args__ = (
        Index("ix_purged_lists_user_id_change_number_id", "user_id", "change_number", "id"),
    )


lists, purged_lists = TaskList.__table__, PurgedList.__table__
# A list as the statements give it back, ids as text (the counts are added by the reads),
# with its owner and the caller's role in it: in one's own lists, the owner's (a list shared
# with the caller says the caller's role instead: todo/sharing/shared_lists.py).
OWNER_ROLE = literal_column("'owner'", String).label("role")
LIST_ROW = (
    type_coerce(lists.c.id, UUIDText()).label("id"),
    type_coerce(lists.c.user_id, UUIDText()).label("user_id"),
    *(column for column in lists.c if column.name not in ("id", "user_id")),
    type_coerce(lists.c.user_id, UUIDText()).label("owner_id"),
    OWNER_ROLE,
)
