"""The statements of accounts: find, create, change and delete one, check a caller's token,
log a token out. They take the caller explicitly and raise domain errors; the factory turns
those into problems (todo/__init__.py)."""

import uuid
from datetime import datetime

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..columns import utcnow
from ..database import transaction
from ..extensions import db
from ..sharing import endings
from ..tasks.models import tasks
from .models import RevokedToken, User, user_emails, users
from .tokens import (
    CALLER_ROW_IS_CURRENT,
    REVOKED,
    USER_AND_REVOCATION,
    USER_GONE,
    Caller,
    TokenNotCurrent,
)


class EmailTaken(Exception):
    """Another account has this email."""

    def __init__(self):
        super().__init__("An account with this email already exists.")


def load_account(caller: Caller) -> User:
    """The caller's account; TokenNotCurrent if the token no longer stands (deleted user,
    logged out, or issued before the last password change)."""
    row = db.session.execute(USER_AND_REVOCATION, caller.token_parameters).first()
    if row is None:
        raise TokenNotCurrent(USER_GONE)
    user, is_revoked = row
    if is_revoked or caller.generation != user.token_generation:
        raise TokenNotCurrent(REVOKED)
    return user


def set_timezone(caller: Caller, zone_name: str | None) -> User:
    """The user's zone, and their next change number: lists whose order or dates depend on
    the zone get a new ETag, as after any change to the tasks."""
    changed = db.session.execute(
        update(users)
        .where(CALLER_ROW_IS_CURRENT)
        .values(timezone=zone_name, change_number=users.c.change_number + 1)
        .returning(users.c.id),
        caller.token_parameters,
    ).first()
    if changed is None:
        load_account(caller)  # raises TokenNotCurrent: the token is why
    db.session.expire_all()
    return load_account(caller)


def find_account(email: str) -> User | None:
    """The account with this email: its id from user_emails, then its row (two statements,
    each on one shard when the tables are distributed: by email, then by user)."""
    user_id = db.session.scalar(select(user_emails.c.user_id).where(user_emails.c.email == email))
    return None if user_id is None else db.session.get(User, user_id)


def create_account(email: str, password_hash: str) -> User:
    """The account and its email's row, in one transaction; EmailTaken if the email has one."""
    user = User(id=uuid.uuid4(), email=email, password_hash=password_hash)
    try:
        with transaction():
            db.session.execute(insert(user_emails).values(email=email, user_id=user.id))
            db.session.add(user)
    except IntegrityError:
        raise EmailTaken() from None
    return user


def replace_hash(user: User, checked_hash: str, new_hash: str) -> None:
    """A hash made with today's parameters, only over the hash just checked: a password
    changed meanwhile must stay changed."""
    db.session.execute(
        update(User)
        .where(User.id == user.id, User.password_hash == checked_hash)
        .values(password_hash=new_hash)
    )


def set_password(user: User, new_hash: str) -> None:
    """The new password, and a new token generation: every older token stops working."""
    user.password_hash = new_hash
    user.token_generation = User.token_generation + 1
    try:
        db.session.commit()
    except StaleDataError:  # the account was deleted meanwhile
        raise TokenNotCurrent(USER_GONE) from None


def delete_account(user: User) -> set[uuid.UUID]:
    """The account and everything of it. Tasks first, then the account, in one transaction:
    the order in which every task write takes its locks (the task, then through the counters'
    trigger the user), so the two never deadlock. Its revocations, idempotency keys and
    tombstones go with the users row (ON DELETE CASCADE); its email's row is removed here.
    The owners of the lists it was a member of, whose data changed (its assignments)."""
    with transaction():
        owners = endings.account_gone(user.id)
        db.session.execute(delete(tasks).where(tasks.c.user_id == user.id))
        db.session.execute(
            delete(user_emails).where(
                user_emails.c.email == user.email, user_emails.c.user_id == user.id
            )
        )
        db.session.execute(delete(users).where(users.c.id == user.id))
    return owners


def log_out(caller: Caller, expires_at: datetime) -> None:
    """Refuse the caller's token from now on, everywhere (until it would have expired anyway);
    and forget this user's revocations that have expired."""
    forget_expired_revocations(caller.actor_id)
    db.session.add(RevokedToken(jti=caller.jti, user_id=caller.actor_id, expires_at=expires_at))
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent logout of this token, or of its deleted user
        db.session.rollback()


def forget_expired_revocations(user_id: uuid.UUID | None) -> int:
    """Forget revocations of tokens that have expired anyway: this user's (on each logout, one
    shard), or every user's (None: `flask todo purge`). The number forgotten."""
    expired = RevokedToken.expires_at < utcnow()
    if user_id is not None:
        expired = and_(RevokedToken.user_id == user_id, expired)
    return db.session.execute(delete(RevokedToken).where(expired)).rowcount
