"""Tickets that open an event stream: a browser's EventSource cannot send an Authorization
header, and a bearer token must never travel in a URL (logs, history, Referer). A ticket is
got with the token, names the token (its user, generation, jti and expiry, so the stream ends
with it) and is signed with the app's secret; it lasts TICKET_SECONDS and opens one stream: its
nonce is spent in the shared store the throttles use (Redis across hosts; without Redis, in
each worker's memory). Knows no HTTP."""

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from .. import cursors
from ..accounts.tokens import Caller

TICKET_SECONDS = 30
KIND = "ticket"  # the first part: no feed cursor is ever taken for a ticket


class InvalidTicket(Exception):
    def __init__(self):
        super().__init__(
            "Not a valid ticket: it is unknown, for another user, used already or expired; "
            "get a new one with POST /api/<user_id>/changes/tickets."
        )


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a ticket opens: the stream of this caller, until the token expires."""

    caller: Caller
    token_expires: int  # the token's `exp` (seconds since the epoch)


def issue(caller: Caller, token_expires: int, key: bytes) -> tuple[str, int]:
    """A new ticket for the caller's token, and when it expires (seconds since the epoch)."""
    expires = min(int(time.time()) + TICKET_SECONDS, token_expires)
    parts = [
        KIND,
        str(caller.actor_id),
        caller.generation,
        caller.jti,
        token_expires,
        expires,
        secrets.token_urlsafe(12),
    ]
    return cursors.signed(parts, key), expires


def parts_of(value: str | None, key: bytes) -> list:
    """A ticket's parts, its user's id parsed; InvalidTicket unless this API issued it and it
    has not expired."""
    try:
        kind, actor, generation, jti, token_expires, expires, nonce = cursors.verified(value, key)
        actor = uuid.UUID(actor)
    except (ValueError, TypeError, AttributeError) as error:
        raise InvalidTicket() from error
    if kind != KIND or type(expires) is not int or expires <= time.time():
        raise InvalidTicket()
    return [kind, actor, generation, jti, token_expires, expires, nonce]


def user_of(value: str | None, key: bytes) -> uuid.UUID:
    """Whose stream the ticket opens (InvalidTicket as `parts_of`); spends nothing."""
    return parts_of(value, key)[1]


def redeem(value: str | None, key: bytes, spend: Callable[[str], bool]) -> Ticket:
    """The ticket's caller, once: `spend(nonce)` is true only the first time a nonce is spent.
    InvalidTicket for anything else."""
    _, actor, generation, jti, token_expires, _, nonce = parts_of(value, key)
    if not spend(f"{nonce}"):
        raise InvalidTicket()
    return Ticket(Caller(actor, generation, str(jti), actor), int(token_expires))
