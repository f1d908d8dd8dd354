"""flask-jwt-extended's JWTManager, refusing tokens whose claims are not of the kinds this API
issues; and the memo of the Authorization headers it accepted, until their tokens expire.

Shape: PyJWT checks signatures and times, not what claims hold. A token signed with our key but
not made by us (no `exp`, a string `exp`, no `jti` or a jti of 1,000 characters) could not be
logged out, since revocation stores its jti until its exp: it is refused as invalid instead.
The hook is JWTManager._decode_jwt_from_config, through which flask-jwt-extended (pinned in
requirements.txt) decodes every token; were it renamed, shapes would never be checked
(tests/test_library_hooks.py would fail). `jwt` is the app's manager, which the factory binds.

Memo: accepting a token parses the header, decodes the token four times over (PyJWT checks
each of its base64 characters in Python) and checks its type and claims: ~100 us and more of
every request, spent again and again on the same few tokens a client sends, all deterministic
for the same header. So a header the library accepted whole (decoded, shape and type checked;
a refresh token signed with our key is decoded, and only then refused) is remembered with
what the app makes of its claims (`remember`), per app and process, and the same header later
skips the library (`remembered`) until its token's `exp`; then it goes the whole way again
(and is refused as expired). Whether the token is still current (logout, password change,
deleted user) is never remembered: the database is asked on every request (tokens.py).
"""

import time
import uuid
from datetime import UTC, datetime

from flask import current_app
from flask_jwt_extended import JWTManager
from jwt import InvalidTokenError

MEMO_SIZE = 4096  # headers per process; when full, the memo starts over
JTI_LENGTH = 36  # a UUID's text, as issue_token makes it (and revoked_tokens.jti holds)


def is_whole_number(value) -> bool:
    return type(value) is int


# The last second datetime holds: a token expiring later could be neither logged out (its
# revocation keeps its exp as a datetime) nor told apart from one that never expires.
LAST_INSTANT = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


def is_instant(value) -> bool:
    return is_whole_number(value) and value <= LAST_INSTANT


def is_uuid_text(value) -> bool:
    try:
        return isinstance(value, str) and len(value) == JTI_LENGTH and bool(uuid.UUID(value))
    except ValueError:
        return False


# claim -> the test its value must pass; `sub` and `gen` are checked where they are used
# (tokens.py), so that a token of an unknown user reads as such.
CLAIM_SHAPES = {"exp": is_instant, "iat": is_whole_number, "jti": is_uuid_text}


def check_shape(claims: dict) -> None:
    for claim, is_valid in CLAIM_SHAPES.items():
        if not is_valid(claims.get(claim)):
            raise InvalidTokenError(f"the `{claim}` claim is missing or not what this API issues")


def remembered(authorization: str | None):
    """What was remembered of this `Authorization` header (`remember`) if its token has not
    expired since; else None (verify it in full)."""
    entry = current_app.extensions.get("accepted_tokens", {}).get(authorization)
    if entry is None or time.time() >= entry[0]:
        return None
    return entry[1]


def remember(authorization: str, expires_at: int, accepted):
    """Remember what the app made of a header flask-jwt-extended accepted (immutable: every
    request with the header shares it), until `expires_at` (its token's `exp`)."""
    memo = current_app.extensions.setdefault("accepted_tokens", {})
    if len(memo) >= MEMO_SIZE:
        memo.clear()
    memo[authorization] = (expires_at, accepted)
    return accepted


class ShapeCheckingJWTManager(JWTManager):
    def _decode_jwt_from_config(self, encoded_token, csrf_value=None, allow_expired=False):
        claims = super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        check_shape(claims)
        return claims


jwt = ShapeCheckingJWTManager()
