"""Opaque keyset cursors: where the next page starts (the sort key of the previous page's last
row), as a URL-safe token that only this API reads back."""

import base64
import binascii
import json


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
