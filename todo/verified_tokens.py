"""flask-jwt-extended's JWTManager, remembering the tokens it has verified until they expire.

Verifying a token parses it four times over, and PyJWT checks each of its base64 characters in
Python: ~100 us of every request, spent again and again on the same few tokens a client sends.
A token's signature and claims never change, so once verified it is remembered, per app and
process, and trusted until its `exp`; then it is verified again (and refused as expired).
Whether it is still current (logout, password change, deleted user) is never remembered: the
database is asked on every request (todo/tokens.py).

The hook is JWTManager._decode_jwt_from_config, through which flask-jwt-extended (pinned in
requirements.txt) decodes every token; were it renamed, tokens would simply be verified each
time.
"""

import time

from flask import current_app
from flask_jwt_extended import JWTManager

MEMO_SIZE = 4096  # tokens per process; when full, the memo starts over


class VerifiedTokenMemo(JWTManager):
    def _decode_jwt_from_config(self, encoded_token, csrf_value=None, allow_expired=False):
        if csrf_value or allow_expired:  # never asked for here; verified in full if they are
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        memo = current_app.extensions.setdefault("verified_tokens", {})
        claims = memo.get(encoded_token)
        if claims is None or time.time() >= claims["exp"]:
            claims = super()._decode_jwt_from_config(encoded_token)
            if type(claims.get("exp")) not in (int, float):  # only tokens that expire are kept
                return claims
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[encoded_token] = claims
        return dict(claims)
