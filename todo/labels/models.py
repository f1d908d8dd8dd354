"""The labels of a user's tasks: one row per label (its identity and how it is shown), and one
per task carrying it. Both reference their owner through composite keys, so the database
refuses a task carrying another user's label; tasks.labels holds the names as answers give
them, in the task's order, rewritten by every statement that changes these rows."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import UTCDateTime
from ..extensions import db
from .names import KEY_MAX, NAME_MAX


class Label(db.Model):
    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_labels_user_id_key"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # names.identity(name): what makes two spellings one label.
    key: Mapped[str] = mapped_column(String(KEY_MAX))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TaskLabel(db.Model):
    """A task carries a label. Gone with the task (purged) and with the label (deleted)."""

    __tablename__ = "task_labels"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "task_id"], ["tasks.user_id", "tasks.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["user_id", "label_id"], ["labels.user_id", "labels.id"], ondelete="CASCADE"
        ),
        # A label's tasks: the filter, the counts, a rename.
        Index("ix_task_labels_user_id_label_id_task_id", "user_id", "label_id", "task_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    task_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    label_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


labels, task_labels = Label.__table__, TaskLabel.__table__
