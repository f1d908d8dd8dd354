"""Bearer tokens: issuing them, and checking that one is still current.

A token is current while its user exists, its `gen` claim is the user's token_generation (a
password change starts a new generation) and its jti was not logged out (revoked_tokens).
Task routes check this inside the very statement that reads or writes their tasks
(TOKEN_IS_CURRENT), so a request makes one round trip; only when that statement finds nothing
is the token looked at on its own, to tell 401 from 404 (and before an Idempotency-Key answer
is replayed, as no statement of tasks stands in the way). Account routes load the user's row.
"""

import uuid
from datetime import UTC, datetime

from flask import g
from flask_jwt_extended import create_access_token, decode_token, get_jwt, get_jwt_header
from flask_jwt_extended.exceptions import RevokedTokenError, UserLookupError
from sqlalchemy import Integer, String, Uuid, and_, bindparam, delete, exists, select

from .errors import problem
from .extensions import db, jwt
from .models import RevokedToken, User, revoked_tokens, users, utcnow


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


# Built once, with the values of `token_parameters()`; `owner` is the token's user.
JTI_REVOKED = exists().where(revoked_tokens.c.jti == bindparam("jti", type_=String))
TOKEN_IS_CURRENT = and_(
    exists().where(
        users.c.id == bindparam("owner", type_=Uuid),
        users.c.token_generation == bindparam("generation", type_=Integer),
    ),
    ~JTI_REVOKED,
)
USER_AND_REVOCATION = select(User, JTI_REVOKED).where(User.id == bindparam("owner", type_=Uuid))


def token_parameters() -> dict:
    """The values TOKEN_IS_CURRENT compares, from the request's verified token; 401 if its
    subject is no user id."""
    claims = get_jwt()
    try:
        owner = uuid.UUID(claims["sub"])
    except (ValueError, TypeError, AttributeError):
        user_gone()
    generation = claims.get("gen")
    if type(generation) is not int or not 0 <= generation < 2**31:
        generation = None  # what no user's generation is: such a token is never current
    return {"owner": owner, "generation": generation, "jti": str(claims.get("jti"))}


def current_account() -> User:
    """The token's user, loaded; 401 if the token is not current (deleted user, logged out,
    or issued before the last password change)."""
    parameters = token_parameters()
    row = db.session.execute(USER_AND_REVOCATION, parameters).first()
    if row is None:
        user_gone()
    user, is_revoked = row
    if is_revoked or parameters["generation"] != user.token_generation:
        raise RevokedTokenError(get_jwt_header(), get_jwt())
    g.user_id = str(user.id)  # for the request's log line
    return user


def user_gone():
    """Answer as for a token whose user no longer exists (401)."""
    raise UserLookupError("the token's user does not exist", {}, {})


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
