"""Calendar subscriptions: a user's (keyed by user first), and the lookup from a feed URL's
secret to its subscription (unique across users, so a table of its own, keyed by the
secret's digest: the secret itself is kept nowhere)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import UTCDateTime
from ..extensions import db

MOST_SUBSCRIPTIONS = 20  # a user's live feed URLs
DIGEST_LENGTH = 64  # sha256, as hex


class CalendarSubscription(db.Model):
    """A calendar feed a user made: its tasks (of one list, or all), as VTODOs or as events;
    gone with the list it shows."""

    __tablename__ = "calendar_subscriptions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "list_id"], ["lists.user_id", "lists.id"], ondelete="CASCADE"
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    list_id: Mapped[uuid.UUID | None]
    # true: events (for calendars that show only events), false: VTODOs.
    events: Mapped[bool]
    # The digest of its URL's secret: what finds its lookup row when it is revoked.
    secret_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarFeed(db.Model):
    """Which subscription a feed URL's secret opens. Keyed (and on Citus distributed) by the
    secret's digest; no foreign key to users, which a table distributed otherwise cannot
    have: the subscriptions' store adds and removes both rows together, and a poll that
    finds no subscription behind a row removes it."""

    __tablename__ = "calendar_feeds"

    secret_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), primary_key=True)
    user_id: Mapped[uuid.UUID]
    subscription_id: Mapped[uuid.UUID]


calendar_subscriptions = CalendarSubscription.__table__
calendar_feeds = CalendarFeed.__table__
