"""Calendar subscriptions: the feed URLs a user makes (a random secret in the path, several,
each revocable), and what a calendar application that polls one, with no token, is given.

The secret is shown once, when the subscription is made; only its SHA-256 digest is kept, in
the subscription (to revoke it) and in the lookup row that finds the subscription from a
URL (calendar_feeds: unique across users, so a table of its own, as user_emails is). Like the
other stores it takes the caller, raises domain errors and knows no HTTP."""

import hashlib
import secrets
import uuid
from collections.abc import Iterator

from sqlalchemy import Integer, Row, Uuid, bindparam, delete, func, insert, select, type_coerce

from ..accounts.models import users
from ..accounts.store import load_account
from ..accounts.tokens import OWNER, Caller
from ..columns import UUIDText, utcnow
from ..database import transaction
from ..extensions import db
from ..lists.models import lists
from ..lists.store import read_list
from ..tasks.models import ANSWER_ROW, tasks
from .models import MOST_SUBSCRIPTIONS, calendar_feeds, calendar_subscriptions
from .store import FIRST, PAGE

OWNER_ID = bindparam(OWNER, type_=Uuid)
SUBSCRIPTION, DIGEST, AFTER, LIMIT = "subscription", "digest", "after", "limit"
SUBSCRIPTION_ROW = (
    type_coerce(calendar_subscriptions.c.id, UUIDText()).label("id"),
    type_coerce(calendar_subscriptions.c.list_id, UUIDText()).label("list_id"),
    calendar_subscriptions.c.events,
    calendar_subscriptions.c.created_at,
)
MINE = calendar_subscriptions.c.user_id == OWNER_ID
THE_ONE = calendar_subscriptions.c.id == bindparam(SUBSCRIPTION, type_=Uuid)
LISTED = select(*SUBSCRIPTION_ROW).where(MINE).order_by(calendar_subscriptions.c.created_at)
COUNTED = select(func.count()).select_from(calendar_subscriptions).where(MINE)
ONE = select(*SUBSCRIPTION_ROW).where(MINE, THE_ONE)
REVOKED = (
    delete(calendar_subscriptions)
    .where(MINE, THE_ONE)
    .returning(calendar_subscriptions.c.secret_digest)
)
FOUND = select(calendar_feeds.c.user_id, calendar_feeds.c.subscription_id).where(
    calendar_feeds.c.secret_digest == bindparam(DIGEST)
)
FORGOTTEN = delete(calendar_feeds).where(calendar_feeds.c.secret_digest == bindparam(DIGEST))
NUMBER = select(users.c.change_number).where(users.c.id == OWNER_ID)
LIST_NAME = select(lists.c.name).where(
    lists.c.user_id == OWNER_ID, lists.c.id == bindparam("list_id", type_=Uuid)
)


class SubscriptionNotFound(Exception):
    def __init__(self):
        super().__init__("Calendar subscription not found")


class CalendarNotFound(Exception):
    def __init__(self):
        super().__init__("No such calendar: the subscription was revoked, or never was.")


class TooManySubscriptions(Exception):
    def __init__(self):
        super().__init__(
            f"A user has at most {MOST_SUBSCRIPTIONS} calendar subscriptions: revoke one first."
        )


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def subscribe(caller: Caller, list_id: uuid.UUID | None, events: bool) -> tuple[Row, str]:
    """A new subscription (of one of the caller's live lists, or of every task) and its
    secret, which is kept nowhere: the caller shows it once."""
    if list_id is not None:
        read_list(caller, list_id)  # ListNotFound unless it is one of the user's live lists
    secret = secrets.token_urlsafe(32)
    subscription_id = uuid.uuid4()
    with transaction():
        load_account(caller)
        if db.session.scalar(COUNTED, {OWNER: caller.space_id}) >= MOST_SUBSCRIPTIONS:
            raise TooManySubscriptions()
        values = {"user_id": caller.space_id, "secret_digest": digest(secret)}
        db.session.execute(
            insert(calendar_subscriptions).values(
                **values, id=subscription_id, list_id=list_id, events=events, created_at=utcnow()
            )
        )
        db.session.execute(insert(calendar_feeds).values(**values, subscription_id=subscription_id))
    return subscription(caller.space_id, subscription_id), secret


def subscription(user_id: uuid.UUID, subscription_id: uuid.UUID) -> Row | None:
    return db.session.execute(ONE, {OWNER: user_id, SUBSCRIPTION: subscription_id}).first()


def subscriptions(caller: Caller) -> list[Row]:
    load_account(caller)
    return db.session.execute(LISTED, {OWNER: caller.space_id}).all()


def revoke(caller: Caller, subscription_id: uuid.UUID) -> None:
    """The subscription and its lookup row gone: its URL answers 404 from now on."""
    with transaction():
        load_account(caller)
        parameters = {OWNER: caller.space_id, SUBSCRIPTION: subscription_id}
        found = db.session.scalar(REVOKED, parameters)
        if found is None:
            raise SubscriptionNotFound()
        db.session.execute(FORGOTTEN, {DIGEST: found})


def feed(secret: str) -> tuple[uuid.UUID, Row]:
    """The user and subscription a feed URL's secret opens; CalendarNotFound for any other
    secret. A lookup row whose subscription is gone (its list purged, its account deleted)
    is removed on the way."""
    found = db.session.execute(FOUND, {DIGEST: digest(secret)}).first()
    if found is None:
        raise CalendarNotFound()
    row = subscription(found.user_id, found.subscription_id)
    if row is None:
        with transaction():
            db.session.execute(FORGOTTEN, {DIGEST: digest(secret)})
        raise CalendarNotFound()
    return found.user_id, row


def list_name(user_id: uuid.UUID, list_id: str) -> str | None:
    """The name of a subscription's list, which the calendar is named after."""
    return db.session.scalar(LIST_NAME, {OWNER: user_id, "list_id": uuid.UUID(list_id)})


def feed_number(user_id: uuid.UUID) -> int | None:
    """The user's change number: what a feed's ETag follows."""
    return db.session.scalar(NUMBER, {OWNER: user_id})


def feed_statement(in_list: bool, events: bool):
    """A page of the user's live tasks with a due date (of one list; open ones only for
    events), in id order."""
    conditions = [
        tasks.c.user_id == OWNER_ID,
        tasks.c.deleted_at.is_(None),
        tasks.c.due_date.is_not(None),
        tasks.c.id > bindparam(AFTER, type_=Uuid),
    ]
    if in_list:
        conditions.append(tasks.c.list_id == bindparam("list_id", type_=Uuid))
    if events:
        conditions.append(tasks.c.completed.is_(False))
    return (
        select(*ANSWER_ROW)
        .where(*conditions)
        .order_by(tasks.c.id)
        .limit(bindparam(LIMIT, type_=Integer))
    )


FEEDS = {(i, e): feed_statement(i, e) for i in (False, True) for e in (False, True)}


def feed_tasks(user_id: uuid.UUID, row: Row) -> Iterator[list[Row]]:
    statement = FEEDS[(row.list_id is not None, row.events)]
    parameters = {OWNER: user_id, "list_id": row.list_id and uuid.UUID(row.list_id)}
    after = FIRST
    while True:
        rows = db.session.execute(statement, {**parameters, AFTER: after, LIMIT: PAGE}).all()
        if rows:
            yield rows
        if len(rows) < PAGE:
            return
        after = uuid.UUID(rows[-1].id)
