"""The webhooks' tables: a user's endpoints (each with its own place in the change feed), the
log of their last attempts, and the schedule the delivery processes scan for them."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import UTCDateTime
from ..extensions import db

URL_MAX = 2000
MOST_ENDPOINTS = 10  # a user's endpoints: each is polled by the delivery processes
LOGGED_ATTEMPTS = 100  # the attempts each endpoint's log keeps
SLOTS = 64  # the schedule's shards: a delivery process scans them one statement each


class Endpoint(db.Model):
    """Where a user's changes are sent. The endpoint holds its own place in the feed: every
    change up to (read_number, read_after) was delivered (or skipped by its filter), and
    `sequence` messages were acknowledged. A message in flight is frozen at its end
    (pending_number, pending_after) before it is first sent, so every retry sends the same
    rows under the same id. A delivery process holds the endpoint while `lease_until` is
    ahead and `lease_token` is its own. A test ping asked for waits in `ping_id` (its
    `webhook-id`) until a delivery process sends it: a request never waits on an endpoint."""

    __tablename__ = "webhook_endpoints"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_MAX))
    kinds: Mapped[str | None] = mapped_column(String(20))  # "task,list"; null: every kind
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_number: Mapped[int] = mapped_column(BigInteger)
    read_after: Mapped[uuid.UUID]
    sequence: Mapped[int] = mapped_column(BigInteger)
    pending_number: Mapped[int | None] = mapped_column(BigInteger)
    pending_after: Mapped[uuid.UUID | None]
    failures: Mapped[int]
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_token: Mapped[uuid.UUID | None]
    attempts_made: Mapped[int] = mapped_column(BigInteger)
    ping_id: Mapped[str | None] = mapped_column(String(100))


class Attempt(db.Model):
    """One attempt to deliver a message (or a ping), numbered per endpoint."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "endpoint_id"],
            ["webhook_endpoints.user_id", "webhook_endpoints.id"],
            ondelete="CASCADE",
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(100))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[int | None]
    latency_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(Text)


class Scheduled(db.Model):
    """Which endpoints exist, by slot (the user id modulo SLOTS): the lookup a delivery
    process scans, one slot a statement, to find endpoints across users. Keyed (and, on
    Citus, distributed) by the slot; no foreign key (a table distributed otherwise cannot
    have one): the store adds and removes it with its endpoint, and a delivery process
    forgets a row whose endpoint is gone (its user deleted)."""

    __tablename__ = "webhook_schedule"

    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


endpoints, attempts, schedule = Endpoint.__table__, Attempt.__table__, Scheduled.__table__


def slot_of(user_id: uuid.UUID) -> int:
    return user_id.int % SLOTS
