"""The tasks table."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text, type_coerce
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import UTCDateTime, UUIDText
from ..extensions import db

TITLE_MAX = 500
DESCRIPTION_MAX = 10_000


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


tasks = Task.__table__
# A task as the statements of store.py and listing.py give it back.
TASK_ROW = (
    type_coerce(tasks.c.id, UUIDText()).label("id"),
    type_coerce(tasks.c.user_id, UUIDText()).label("user_id"),
    *(column for column in tasks.c if column.name not in ("id", "user_id")),
)
