"""The statements of accounts: find, create, change and delete one, check a caller's token,
log a token out. They take the caller explicitly and raise domain errors; the factory turns
those into problems (todo/__init__.py)."""

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..columns import utcnow
from ..database import transaction
from ..extensions import db
from ..tasks.models import tasks
from .models import RevokedToken, User, users
from .tokens import REVOKED, USER_AND_REVOCATION, USER_GONE, Caller, TokenNotCurrent


class EmailTaken(Exception):
    """Another account has this email."""

    def __init__(self):
        super().__init__("An account with this email already exists.")


def load_account(caller: Caller) -> User:
    """The caller's account; TokenNotCurrent if the token no longer stands (deleted user,
    logged out, or issued before the last password change)."""
    row = db.session.execute(USER_AND_REVOCATION, caller.parameters).first()
    if row is None:
        raise TokenNotCurrent(USER_GONE)
    user, is_revoked = row
    if is_revoked or caller.generation != user.token_generation:
        raise TokenNotCurrent(REVOKED)
    return user


def find_account(email: str) -> User | None:
    return db.session.scalar(select(User).filter_by(email=email))


def create_account(email: str, password_hash: str) -> User:
    user = User(email=email, password_hash=password_hash)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
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


def delete_account(user_id: uuid.UUID) -> None:
    """The account and everything of it. Tasks first, then the account, in one transaction:
    the order in which every task write takes its locks (the task, then through the counters'
    trigger the user), so the two never deadlock."""
    with transaction():
        for table, column in ((tasks, "user_id"), (users, "id")):
            db.session.execute(delete(table).where(table.c[column] == user_id))


def log_out(caller: Caller, expires_at: datetime) -> None:
    """Refuse the caller's token from now on, everywhere (until it would have expired anyway);
    and forget revocations that have expired."""
    db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    db.session.add(RevokedToken(jti=caller.jti, user_id=caller.user_id, expires_at=expires_at))
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent logout of this token, or of its deleted user
        db.session.rollback()
