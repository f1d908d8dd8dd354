"""Bearer tokens: issuing them, and turning one back into the current user.

One query per authenticated request: the user's row, with whether the token's jti was revoked.
A token is refused if it was logged out (revoked_tokens) or issued before the user's last
password change (its `gen` claim is not the user's token_generation).
"""

import uuid
from datetime import UTC, datetime

from flask import g
from flask_jwt_extended import create_access_token, decode_token
from flask_jwt_extended.exceptions import RevokedTokenError, UserLookupError
from sqlalchemy import String, Uuid, bindparam, delete, exists, select

from .errors import problem
from .extensions import db, jwt
from .models import RevokedToken, User, utcnow


def issue_token(user: User) -> dict:
    """A signed token for `user`, in the shape the login answer gives it."""
    token = create_access_token(
        identity=str(user.id), additional_claims={"gen": user.token_generation}
    )
    expires_at = datetime.fromtimestamp(decode_token(token)["exp"], UTC)  # exactly the token's
    return {"token": token, "token_type": "bearer", "expires_at": expires_at}


def revoke(payload: dict) -> None:
    """Refuse this token from now on, everywhere; and forget revocations that have expired."""
    now = utcnow()
    db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    db.session.add(
        RevokedToken(
            jti=payload["jti"],
            user_id=uuid.UUID(payload["sub"]),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        )
    )


# Built once: the statement every authenticated request runs (compiled once, cached).
USER_AND_REVOCATION = select(
    User, exists().where(RevokedToken.jti == bindparam("jti", type_=String))
).where(User.id == bindparam("user_id", type_=Uuid))


@jwt.user_lookup_loader
def load_user(header: dict, payload: dict) -> User | None:
    try:
        user_id = uuid.UUID(payload["sub"])
    except (ValueError, TypeError, AttributeError):
        return None
    parameters = {"jti": str(payload.get("jti")), "user_id": user_id}
    row = db.session.execute(USER_AND_REVOCATION, parameters).first()
    if row is None:
        return None
    user, is_revoked = row
    if is_revoked or payload.get("gen") != user.token_generation:
        raise RevokedTokenError(header, payload)
    g.user_id = str(user.id)  # for the request's log line
    return user


def user_gone():
    """Answer as for a token whose user no longer exists (deleted while this request ran)."""
    raise UserLookupError("the user was deleted during the request", {}, {})


def unauthorized(detail: str):
    return problem(401, detail, {"WWW-Authenticate": "Bearer"})


@jwt.unauthorized_loader
def missing_token(reason: str):
    return unauthorized(f"A bearer token is required: {reason}.")


@jwt.invalid_token_loader
def invalid_token(reason: str):
    return unauthorized(f"The token is invalid: {reason}.")


@jwt.expired_token_loader
def expired_token(_header, _payload):
    return unauthorized("The token has expired; log in again.")


@jwt.revoked_token_loader
def revoked_token(_header, _payload):
    return unauthorized("The token has been revoked; log in again.")


@jwt.user_lookup_error_loader
def unknown_user(_header, _payload):
    return unauthorized("The token's user no longer exists.")
