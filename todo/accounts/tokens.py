"""Bearer tokens: issuing them, the caller a verified token names, and what makes it current.

A token is current while its user exists, its `gen` claim is the user's token_generation (a
password change starts a new generation) and its jti was not logged out (revoked_tokens,
listed on the users row by triggers). Task statements carry this as a condition of their own
(TOKEN_IS_CURRENT, with the caller's parameters) over the caller's users row alone, so a
request makes one round trip and PostgreSQL plans one more table, not two; only when such a
statement finds nothing is the token looked at on its own (store.py), to tell 401 from 404.
The list asks it where it reads its version (CALLER_ROW_IS_CURRENT in that subquery: null
for a token not current), one subquery on users instead of two (tasks/listing.py).
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import NamedTuple

from flask_jwt_extended import create_access_token, decode_token
from sqlalchemy import Integer, String, Uuid, and_, bindparam, exists, literal_column, select

from ..columns import text_position
from ..errors import problem
from .models import User, users
from .verified_tokens import jwt

# The bind parameters of TOKEN_IS_CURRENT: every statement that carries it takes these, as
# `Caller.parameters` gives them.
OWNER, GENERATION, JTI = "owner", "generation", "jti"
# The bind parameters of a member's task statements (todo/tasks/rows.py: IN_SPACE): in the
# lists shared with them (writing: as editor). An owner's statements have none.
ACTOR, READING = "actor", "reading"

USER_GONE = "The token's user no longer exists."
REVOKED = "The token has been revoked; log in again."


class TokenNotCurrent(Exception):
    """A token that verifies but no longer stands: its user is gone, or it was revoked (by a
    logout or a password change). Its message says which."""


# A caller's role in the space it acts in: in one's own, the owner's.
OWNER_ROLE = "owner"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request acts for, from its verified token: who acts (`actor_id`, the token's
    user), in whose space (`space_id`, the user whose data the statements touch) and with
    which role there. Built once per token and handed to every store function, which narrows
    its statements to the space. In one's own space actor and space are one user and the role
    is the owner's. A member acting in another user's space (docs/sharing.md) has `shared`,
    the lists shared with them there and their role in each, read on the owner's side for
    this request; `space_generation` is the owner's token generation, read with them, so the
    owner's statements still ask the owner's users row (one shard), the member's token having
    been checked on the member's own row first."""

    actor_id: uuid.UUID
    generation: int | None  # None: a `gen` no user has, so the token is never current
    jti: str
    space_id: uuid.UUID
    role: str = OWNER_ROLE
    shared: Mapping | None = None  # a member's lists here: {list id: role}
    space_generation: int | None = None
    reading: bool = True  # a member's statements: False when they write (editors only)

    @property
    def parameters(self) -> dict:
        """The bind parameters of a statement over the space that carries TOKEN_IS_CURRENT,
        which asks it of the space's users row: the actor's, in one's own space. ACTOR: who
        a write says did it (created_by, updated_by, completed_by)."""
        if self.shared is None:
            return {
                OWNER: self.space_id,
                GENERATION: self.generation,
                JTI: self.jti,
                ACTOR: self.actor_id,
            }
        return {
            OWNER: self.space_id,
            GENERATION: self.space_generation,
            JTI: self.jti,
            ACTOR: self.actor_id,
            READING: self.reading,
        }

    @property
    def token_parameters(self) -> dict:
        """The bind parameters that ask the actor's own users row whether the token stands."""
        return {OWNER: self.actor_id, GENERATION: self.generation, JTI: self.jti}


def caller_from_claims(claims: dict) -> Caller:
    """The caller of a verified token; TokenNotCurrent if its subject is no user id."""
    try:
        user_id = uuid.UUID(claims["sub"])
    except (ValueError, TypeError, AttributeError):
        raise TokenNotCurrent(USER_GONE) from None
    generation = claims.get("gen")
    if type(generation) is not int or not 0 <= generation < 2**31:
        generation = None
    return Caller(user_id, generation, claims["jti"], user_id)


class Bearer(NamedTuple):
    """What a request's verified token gives it: the claims, the caller and the caller's id
    as log lines show it. Worked out once per Authorization header and remembered with it
    (verified_tokens.remember): every request that sends the header shares it, so nothing of
    it can change."""

    claims: Mapping
    caller: Caller
    user_id: str


def bearer_of(claims: dict) -> Bearer:
    """The Bearer of a verified token's claims; TokenNotCurrent if its subject is no user id."""
    caller = caller_from_claims(claims)
    return Bearer(MappingProxyType(dict(claims)), caller, str(caller.actor_id))


# Built once; their parameters are a Caller's. Whether the users row lists the jti, with the
# space that ends each entry (a jti, a UUID's text, holds none). The space and the 0 are
# written into the SQL: as bound values they were two more parameters for psycopg2 to adapt
# and 26 more characters for it to copy on every run of every statement of the caller's.
JTI_REVOKED = text_position(
    users.c.revoked_jtis, bindparam(JTI, type_=String) + literal_column("' '", String)
) > literal_column("0", Integer)
# The caller's users row, while the token is current: for statements that read FROM users.
CALLER_ROW_IS_CURRENT = and_(
    users.c.id == bindparam(OWNER, type_=Uuid),
    users.c.token_generation == bindparam(GENERATION, type_=Integer),
    ~JTI_REVOKED,
)
TOKEN_IS_CURRENT = exists().where(CALLER_ROW_IS_CURRENT)
USER_AND_REVOCATION = select(User, JTI_REVOKED).where(User.id == bindparam(OWNER, type_=Uuid))


def issue_token(user: User) -> dict:
    """A signed token for `user`, in the shape the login answer gives it."""
    token = create_access_token(
        identity=str(user.id), additional_claims={"gen": user.token_generation}
    )
    expires_at = datetime.fromtimestamp(decode_token(token)["exp"], UTC)  # exactly the token's
    return {"token": token, "token_type": "bearer", "expires_at": expires_at}


def expiry(claims: dict) -> datetime:
    return datetime.fromtimestamp(claims["exp"], UTC)


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
