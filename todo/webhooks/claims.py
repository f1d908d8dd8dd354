"""The delivery processes' statements: find the endpoints with something to send, claim one
with a lease, freeze its message, and record how each attempt went.

Every statement names one user's rows (`user_id = :owner`) but the schedule's scan, which
names one slot: each routes to one shard on Citus. A claim is one UPDATE that succeeds only
while no other process holds the endpoint (`lease_until < :now`, the time passed in: no
volatile function inside an UPDATE); every later write of the holder is fenced by its
`lease_token`, so a process whose lease ran out (it stalled, or was thought dead) changes
nothing. The feed position moves only after a 2xx: a process killed mid-delivery leaves the
message frozen, and whoever claims the endpoint next sends it again, under the same id."""

import uuid
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Row, Uuid, bindparam, delete, insert, or_, select, update

from ..accounts.models import users
from ..columns import UTCDateTime
from ..extensions import db
from .models import LOGGED_ATTEMPTS, attempts, endpoints, schedule
from .store import NEVER

OWNER, ENDPOINT_ID, NOW, UNTIL, TOKEN = "owner", "endpoint_id", "now", "until", "token"
OWNER_ID = bindparam(OWNER, type_=Uuid)
now = bindparam(NOW, type_=UTCDateTime)


def mine(statement):
    return statement.where(
        endpoints.c.user_id == OWNER_ID, endpoints.c.id == bindparam(ENDPOINT_ID, type_=Uuid)
    )


def held(statement):
    """Narrowed to the endpoint while this process's lease on it stands."""
    return mine(statement).where(endpoints.c.lease_token == bindparam(TOKEN, type_=Uuid))


SCHEDULED = select(schedule.c.user_id, schedule.c.endpoint_id).where(
    schedule.c.slot == bindparam("slot")
)
FREE = endpoints.c.lease_until < now
# Messages are sent to an endpoint switched on and past its retry's wait; a ping, whenever it
# is free (switched off or waiting: a ping is how its user learns whether it answers again).
SENDING = or_(
    endpoints.c.enabled & (endpoints.c.next_attempt_at <= now), endpoints.c.ping_id.is_not(None)
)
# A user's endpoints, with whether each is due and the user's change number (the user's row
# and theirs are on one shard).
ENDPOINTS = (
    select(
        endpoints.c.id,
        endpoints.c.read_number,
        endpoints.c.pending_number,
        endpoints.c.ping_id,
        users.c.change_number,
        (endpoints.c.enabled & (endpoints.c.next_attempt_at <= now) & FREE).label("due"),
        FREE.label("free"),
    )
    .join(users, users.c.id == endpoints.c.user_id)
    .where(endpoints.c.user_id == OWNER_ID, users.c.id == OWNER_ID)
)
CLAIM = (
    mine(update(endpoints))
    .where(FREE, SENDING)
    .values(
        lease_until=bindparam(UNTIL, type_=UTCDateTime),
        lease_token=bindparam(TOKEN, type_=Uuid),
    )
    .returning(*endpoints.c)
)


class Due(NamedTuple):
    user_id: uuid.UUID
    endpoint_id: uuid.UUID


def scheduled(slot: int) -> list[Due]:
    """The endpoints of a slot's users (a row whose endpoint is gone is forgotten later)."""
    return [Due(*row) for row in db.session.execute(SCHEDULED, {"slot": slot})]


def due(user_id: uuid.UUID, moment: datetime) -> tuple[list[uuid.UUID], set[uuid.UUID]]:
    """The user's endpoints that have something to send now (a ping asked for, a message in
    flight, or changes past their place in the feed), and every endpoint the user has."""
    rows = db.session.execute(ENDPOINTS, {OWNER: user_id, NOW: moment}).all()
    db.session.commit()
    sending = [
        row.id
        for row in rows
        if (row.free and row.ping_id is not None)
        or (row.due and (row.pending_number is not None or row.change_number > row.read_number))
    ]
    return sending, {row.id for row in rows}


def forget_gone(slot: int, user_id: uuid.UUID, gone: set[uuid.UUID]) -> None:
    """Forget the schedule's rows of endpoints that are gone (their user deleted)."""
    for endpoint_id in gone:
        db.session.execute(
            delete(schedule).where(
                schedule.c.slot == slot,
                schedule.c.user_id == user_id,
                schedule.c.endpoint_id == endpoint_id,
            )
        )
    db.session.commit()


def claim(user_id: uuid.UUID, endpoint_id: uuid.UUID, moment: datetime, lease: float):
    """The endpoint, held by this process until `moment + lease` (its `lease_token` this
    claim's); None if another holds it, or it has nothing due (no ping, and switched off or
    waiting to retry)."""
    parameters = {
        OWNER: user_id,
        ENDPOINT_ID: endpoint_id,
        NOW: moment,
        UNTIL: moment + timedelta(seconds=lease),
        TOKEN: uuid.uuid4(),
    }
    row = db.session.execute(CLAIM, parameters).first()
    db.session.commit()
    return row


def fenced(endpoint: Row, counted: bool = False, **values) -> int | None:
    """Write `values` on the endpoint while this process still holds it (None if it no longer
    does: nothing was written); with `counted`, as the outcome of an attempt, whose number
    it gives back."""
    parameters = {OWNER: endpoint.user_id, ENDPOINT_ID: endpoint.id, TOKEN: endpoint.lease_token}
    if counted:
        values["attempts_made"] = endpoints.c.attempts_made + 1
    number = db.session.execute(
        held(update(endpoints)).values(**values).returning(endpoints.c.attempts_made), parameters
    ).scalar()
    db.session.commit()
    return number


def renew(endpoint: Row, moment: datetime, lease: float) -> Row | None:
    """The endpoint held for another lease from `moment`, as it stands now (a URL, secret or
    filter changed while this process held it applies from the next message on); None if
    this process no longer holds it."""
    parameters = {
        OWNER: endpoint.user_id,
        ENDPOINT_ID: endpoint.id,
        TOKEN: endpoint.lease_token,
        UNTIL: moment + timedelta(seconds=lease),
    }
    row = db.session.execute(
        held(update(endpoints))
        .values(lease_until=bindparam(UNTIL, type_=UTCDateTime))
        .returning(*endpoints.c),
        parameters,
    ).first()
    db.session.commit()
    return row


def release(endpoint: Row, **values) -> int | None:
    """Let the endpoint go (writing `values`), while this process holds it."""
    return fenced(endpoint, lease_until=NEVER, lease_token=None, **values)


def log_attempt(user_id: uuid.UUID, endpoint_id: uuid.UUID, number: int, outcome: dict) -> None:
    """Log attempt `number` of the endpoint, and forget those older than the last
    LOGGED_ATTEMPTS."""
    db.session.execute(
        insert(attempts).values(user_id=user_id, endpoint_id=endpoint_id, number=number, **outcome)
    )
    db.session.execute(
        delete(attempts).where(
            attempts.c.user_id == user_id,
            attempts.c.endpoint_id == endpoint_id,
            attempts.c.number <= number - LOGGED_ATTEMPTS,
        )
    )
    db.session.commit()
