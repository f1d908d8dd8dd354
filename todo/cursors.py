"""Opaque cursors: where the next page starts (the sort key of the previous page's last row),
or where a client's sync stands, as a URL-safe token that only this API reads back. A cursor
that must not be forged (the change feed's) is signed."""

import base64
import binascii
import hashlib
import hmac
import json
from functools import cache


def encode(parts: list) -> str:
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str) -> list:
    """The parts `encode` was given; ValueError for anything it did not make."""
    try:
        parts = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, TypeError, RecursionError) as error:
        raise ValueError("not a cursor") from error
    if not isinstance(parts, list):
        raise ValueError("not a cursor")
    return parts


def signed(parts: list, key: bytes) -> str:
    """`encode(parts)` with a signature: `verified` gives the parts back only unaltered."""
    token = encode(parts)
    return f"{token}.{signature(token, key)}"


def verified(token: str, key: bytes) -> list:
    """The parts `signed` was given; ValueError for anything it did not make with `key`."""
    body, _, sent = token.rpartition(".")
    if not body or not sent.isascii() or not hmac.compare_digest(sent, signature(body, key)):
        raise ValueError("not a cursor")
    return decode(body)


def signature(token: str, key: bytes) -> str:
    mac = keyed(key).copy()
    mac.update(token.encode())
    return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")


@cache
def keyed(key: bytes) -> hmac.HMAC:
    """An HMAC with the key already taken in, to copy for each signature (half the work)."""
    return hmac.new(key, digestmod=hashlib.sha256)
