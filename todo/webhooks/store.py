"""The statements behind a user's webhook endpoints: register, list, read, change, rotate,
delete, and read the delivery log. Not on a hot path: each checks the caller's token by
loading the account first, then runs its statement narrowed to the caller's space. Like the
other stores, it takes the caller explicitly, raises domain errors and knows nothing of HTTP.

The signing secret is kept as it is shown (the delivery process signs with it); it is given
to the user once, on registration and on rotation, and never read back by another route."""

import base64
import secrets
import uuid
from datetime import datetime

from sqlalchemy import Row, Uuid, bindparam, delete, func, insert, select, update

from ..accounts.models import users
from ..accounts.store import load_account
from ..accounts.tokens import CALLER_ROW_IS_CURRENT, OWNER, Caller
from ..columns import utcnow
from ..database import transaction
from ..extensions import db
from ..sync.store import LAST_ID
from .models import LOGGED_ATTEMPTS, MOST_ENDPOINTS, attempts, endpoints, schedule, slot_of

ENDPOINT_ID = "endpoint_id"
OWNER_ID = bindparam(OWNER, type_=Uuid)
NEVER = datetime(1970, 1, 1, tzinfo=utcnow().tzinfo)  # a lease that ended long ago

# What answers show of an endpoint (never its secret).
SHOWN = (
    endpoints.c.id,
    endpoints.c.user_id,
    endpoints.c.url,
    endpoints.c.kinds,
    endpoints.c.enabled,
    endpoints.c.disabled_reason,
    endpoints.c.created_at,
    endpoints.c.updated_at,
    endpoints.c.sequence,
    endpoints.c.failures,
    endpoints.c.next_attempt_at,
    endpoints.c.ping_id,
)


class EndpointNotFound(Exception):
    def __init__(self):
        super().__init__("Webhook endpoint not found")


class TooManyEndpoints(Exception):
    def __init__(self):
        super().__init__(
            f"A user has at most {MOST_ENDPOINTS} webhook endpoints: delete one first."
        )


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes them: `whsec_` and 24 random bytes in
    base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def mine(statement):
    return statement.where(
        endpoints.c.user_id == OWNER_ID, endpoints.c.id == bindparam(ENDPOINT_ID, type_=Uuid)
    )


LOCK_USER = select(users.c.change_number).where(CALLER_ROW_IS_CURRENT).with_for_update()
COUNT = select(func.count()).select_from(endpoints).where(endpoints.c.user_id == OWNER_ID)
ALL = select(*SHOWN).where(endpoints.c.user_id == OWNER_ID).order_by(endpoints.c.created_at)
ONE = mine(select(*SHOWN))
LOG = (
    select(attempts)
    .where(
        attempts.c.user_id == OWNER_ID,
        attempts.c.endpoint_id == bindparam(ENDPOINT_ID, type_=Uuid),
    )
    .order_by(attempts.c.number.desc())
    .limit(LOGGED_ATTEMPTS)
)


def add_endpoint(caller: Caller, url: str, kinds: str | None) -> tuple[Row, str]:
    """A new endpoint, delivering the changes made from now on, and its secret (shown once).
    TooManyEndpoints past MOST_ENDPOINTS: creations queue on the caller's users row."""
    endpoint_id, secret, now = uuid.uuid4(), new_secret(), utcnow()
    with transaction():
        number = db.session.scalar(LOCK_USER, caller.token_parameters)
        if number is None:
            load_account(caller)  # raises, saying why
        if db.session.scalar(COUNT, {OWNER: caller.space_id}) >= MOST_ENDPOINTS:
            raise TooManyEndpoints()
        db.session.execute(
            insert(endpoints).values(
                user_id=caller.space_id,
                id=endpoint_id,
                url=url,
                kinds=kinds,
                secret=secret,
                enabled=True,
                created_at=now,
                updated_at=now,
                read_number=number,
                read_after=LAST_ID,
                sequence=0,
                failures=0,
                next_attempt_at=now,
                lease_until=NEVER,
                attempts_made=0,
            )
        )
        db.session.execute(
            insert(schedule).values(
                slot=slot_of(caller.space_id), user_id=caller.space_id, endpoint_id=endpoint_id
            )
        )
    return read_endpoint(caller, endpoint_id), secret


def all_endpoints(caller: Caller) -> list[Row]:
    load_account(caller)
    return db.session.execute(ALL, {OWNER: caller.space_id}).all()


def read_endpoint(caller: Caller, endpoint_id: uuid.UUID) -> Row:
    load_account(caller)
    row = db.session.execute(ONE, {OWNER: caller.space_id, ENDPOINT_ID: endpoint_id}).first()
    if row is None:
        raise EndpointNotFound()
    return row


def change_endpoint(caller: Caller, endpoint_id: uuid.UUID, changes: dict) -> Row:
    """Change the URL, the filter, or switch the endpoint on or off. Switched on, it starts
    again where it stopped: its retries forgotten, the message it could not deliver first."""
    values = {"updated_at": utcnow(), **changes}
    if changes.get("enabled"):
        values.update(disabled_reason=None, failures=0, next_attempt_at=values["updated_at"])
    elif changes.get("enabled") is False:
        values["disabled_reason"] = "Disabled by its user."
    load_account(caller)
    changed = db.session.execute(
        mine(update(endpoints)).values(**values).returning(endpoints.c.id),
        {OWNER: caller.space_id, ENDPOINT_ID: endpoint_id},
    ).first()
    db.session.commit()
    if changed is None:
        raise EndpointNotFound()
    return read_endpoint(caller, endpoint_id)


def rotate_secret(caller: Caller, endpoint_id: uuid.UUID) -> tuple[Row, str]:
    """A new secret for the endpoint (the old one signs nothing more); shown once."""
    secret = new_secret()
    load_account(caller)
    changed = db.session.execute(
        mine(update(endpoints))
        .values(secret=secret, updated_at=utcnow())
        .returning(endpoints.c.id),
        {OWNER: caller.space_id, ENDPOINT_ID: endpoint_id},
    ).first()
    db.session.commit()
    if changed is None:
        raise EndpointNotFound()
    return read_endpoint(caller, endpoint_id), secret


def delete_endpoint(caller: Caller, endpoint_id: uuid.UUID) -> None:
    """The endpoint, its log and its place in the schedule, gone together."""
    load_account(caller)
    with transaction():
        gone = db.session.execute(
            mine(delete(endpoints)).returning(endpoints.c.id),
            {OWNER: caller.space_id, ENDPOINT_ID: endpoint_id},
        ).first()
        if gone is None:
            raise EndpointNotFound()
        db.session.execute(
            delete(schedule).where(
                schedule.c.slot == slot_of(caller.space_id),
                schedule.c.user_id == caller.space_id,
                schedule.c.endpoint_id == endpoint_id,
            )
        )


def endpoint_log(caller: Caller, endpoint_id: uuid.UUID) -> list[Row]:
    """The endpoint's last attempts, newest first."""
    read_endpoint(caller, endpoint_id)
    return db.session.execute(LOG, {OWNER: caller.space_id, ENDPOINT_ID: endpoint_id}).all()


def ask_ping(caller: Caller, endpoint_id: uuid.UUID) -> str:
    """A ping for the delivery processes to send the endpoint; its `webhook-id`. One waits at
    most per endpoint: asked for again before it was sent, it is the same ping."""
    load_account(caller)
    asked = db.session.execute(
        mine(update(endpoints))
        .values(ping_id=func.coalesce(endpoints.c.ping_id, f"msg_ping_{uuid.uuid4().hex}"))
        .returning(endpoints.c.ping_id),
        {OWNER: caller.space_id, ENDPOINT_ID: endpoint_id},
    ).scalar()
    db.session.commit()
    if asked is None:
        raise EndpointNotFound()
    return asked
