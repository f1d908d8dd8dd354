"""Delivering webhooks, in the process `flask todo deliver` runs (several may run, on several
hosts): each round scans the schedule slot by slot, and for each endpoint with something to
send, claims it (claims.py), then sends its messages one at a time, in order, each only
after the one before was acknowledged with a 2xx.

A message is a page of the change feed, as Standard Webhooks frames one: `webhook-id` (the
endpoint's message number: the same on every retry), `webhook-timestamp` and
`webhook-signature` (v1, HMAC-SHA256 of the standardwebhooks package), and a body of `type`,
`timestamp` and `data`: the page, its `sequence` (1, 2, 3… per endpoint), the cursor it
starts at (`since`) and the one after it (`next`). A receiver that finds a sequence number
missing fills the gap from the feed with the `next` it holds. A failed attempt is retried
after each delay of WEBHOOK_RETRY_SCHEDULE in turn; after the last, the endpoint is switched
off with the reason."""

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from standardwebhooks.webhooks import Webhook

from ..columns import utcnow
from ..lists.schemas import TaskListSchema
from ..sync.schemas import DeletedTaskSchema
from ..sync.store import Changes, Position, feed_cursor
from ..tasks.schemas import TaskSchema
from . import claims, feed, sender
from .models import SLOTS

log = logging.getLogger(__name__)
TASK, DELETED, LIST = TaskSchema(), DeletedTaskSchema(), TaskListSchema()
PAGE = 100  # rows a message carries at most
MESSAGES_PER_CLAIM = 20  # then the endpoint is let go, for the others' turn


@dataclass(frozen=True)
class Settings:
    """What delivery needs of the app's configuration (the WEBHOOK_* settings)."""

    reach: sender.Reach
    retries: tuple[float, ...]
    lease: float
    poll: float
    cursor_key: bytes

    @classmethod
    def of(cls, config) -> "Settings":
        reach = sender.Reach(
            sender.networks(config["WEBHOOK_ALLOWED_NETWORKS"]),
            config["WEBHOOK_TIMEOUT"],
            config["WEBHOOK_NAMESERVERS"],
        )
        return cls(
            reach,
            config["WEBHOOK_RETRY_SCHEDULE"],
            config["WEBHOOK_LEASE_SECONDS"],
            config["WEBHOOK_POLL_SECONDS"],
            config["JWT_SECRET_KEY"].encode(),
        )


def deliver_forever(settings: Settings, stop: threading.Event) -> None:
    """Deliver until `stop` is set; a round that sent nothing waits WEBHOOK_POLL_SECONDS."""
    while not stop.is_set():
        try:
            sent = deliver_round(settings, stop)
        except Exception:  # the database went away: log it, and try again after a pause
            log.exception("a delivery round failed")
            sent = 0
        if not sent:
            stop.wait(settings.poll)


def deliver_round(settings: Settings, stop: threading.Event | None = None) -> int:
    """One pass over every endpoint (cut short once `stop` is set: after the attempt in
    flight); the number of attempts made."""
    made = 0
    for slot in range(SLOTS):
        listed: dict[uuid.UUID, set[uuid.UUID]] = {}
        for user_id, endpoint_id in claims.scheduled(slot):
            listed.setdefault(user_id, set()).add(endpoint_id)
        for user_id, endpoint_ids in listed.items():
            sending, existing = claims.due(user_id, utcnow())
            if endpoint_ids - existing:
                claims.forget_gone(slot, user_id, endpoint_ids - existing)
            for endpoint_id in sending:
                if stop is not None and stop.is_set():
                    return made
                made += guarded(user_id, endpoint_id, settings, stop)
    return made


def guarded(user_id: uuid.UUID, endpoint_id: uuid.UUID, settings: Settings, stop) -> int:
    """deliver_endpoint, where an endpoint that fails in a way not foreseen is logged and
    passed over: the round goes on to the others (a fault that came back every round would
    otherwise stop every endpoint after it, for good)."""
    try:
        return deliver_endpoint(user_id, endpoint_id, settings, stop)
    except Exception:
        log.exception("delivering to webhook endpoint %s failed", endpoint_id)
        return 0


@dataclass
class Held:
    """An endpoint this process holds, as it stands."""

    row: object  # the claimed row (its ids, URL, secret, filter and lease token)
    read: Position
    pending: Position | None
    sequence: int
    failures: int


def deliver_endpoint(
    user_id: uuid.UUID, endpoint_id: uuid.UUID, settings: Settings, stop=None
) -> int:
    """Claim the endpoint, send the ping asked for if any, then its messages in order until
    it has none, one fails, or MESSAGES_PER_CLAIM were sent; the number of attempts made."""
    moment = utcnow()
    row = claims.claim(user_id, endpoint_id, moment, settings.lease)
    if row is None:
        return 0  # another process has it, or it stopped being due
    made = 0
    try:
        if row.ping_id is not None:
            if not ping(row, settings):
                return 1  # the lease was lost
            made = 1
        if not (row.enabled and row.next_attempt_at <= moment):
            return made  # claimed for the ping only: switched off, or waiting to retry
        pending = None
        if row.pending_number is not None:
            pending = Position(row.pending_number, row.pending_after)
        read = Position(row.read_number, row.read_after)
        held = Held(row, read, pending, row.sequence, row.failures)
        sent = 0
        while sent < MESSAGES_PER_CLAIM and not (stop is not None and stop.is_set()):
            if made:
                # Held for another lease before the next message (an attempt takes at most
                # WEBHOOK_TIMEOUT, less than a lease), as the endpoint stands now.
                held.row = claims.renew(row, utcnow(), settings.lease)
                if held.row is None or not held.row.enabled:
                    break
            outcome = send_next(held, settings)
            if outcome is None:
                break
            made, sent = made + 1, sent + 1
            if not outcome:
                break
    finally:
        claims.release(row)
    return made


def send_next(held: Held, settings: Settings) -> bool | None:
    """Send the endpoint's next message; whether it was acknowledged (None: nothing to send,
    or the lease was lost)."""
    row = held.row
    while held.pending is None:
        page = feed.next_page(row.user_id, held.read, None, PAGE)
        if page.position == held.read:
            return None
        if feed.is_empty(feed.filtered(page, row.kinds)):  # nothing of the kinds it wants
            at = page.position
            if claims.fenced(row, read_number=at.number, read_after=at.after) is None:
                return None
            held.read = at
            continue
        at = page.position
        if claims.fenced(row, pending_number=at.number, pending_after=at.after) is None:
            return None
        held.pending = at
    page = feed.filtered(feed.next_page(row.user_id, held.read, held.pending, PAGE), row.kinds)
    sequence = held.sequence + 1
    data = page_data(page, row.user_id, held.read, settings.cursor_key)
    outcome = send(
        row, f"msg_{row.id.hex}_{sequence}", "feed.page", {"sequence": sequence, **data}, settings
    )
    if outcome.delivered:
        done = {"read_number": held.pending.number, "read_after": held.pending.after}
        number = claims.fenced(
            row,
            True,
            **done,
            pending_number=None,
            pending_after=None,
            sequence=sequence,
            failures=0,
        )
        held.read, held.pending, held.sequence, held.failures = held.pending, None, sequence, 0
    else:
        held.failures += 1
        number = claims.fenced(row, True, **retried(held.failures, outcome, settings.retries))
    if number is None:
        return None
    claims.log_attempt(row.user_id, row.id, number, logged(outcome, sequence, row))
    return outcome.delivered


def retried(failures: int, outcome: sender.Outcome, retries: tuple[float, ...]) -> dict:
    """What a failed attempt changes: the time of the next, or, past the last retry, the
    endpoint switched off with the reason."""
    if failures > len(retries):
        reason = f"Switched off after {failures} failed attempts; the last: {outcome.error}"
        return {"failures": failures, "enabled": False, "disabled_reason": reason}
    return {
        "failures": failures,
        "next_attempt_at": utcnow() + timedelta(seconds=retries[failures - 1]),
    }


def page_data(page: Changes, user_id: uuid.UUID, since: Position, key: bytes) -> dict:
    """A page as the feed answers it, with the cursor it starts at."""
    return {
        "tasks": TASK.dump(page.tasks, many=True),
        "deleted": DELETED.dump(page.deleted, many=True),
        "lists": LIST.dump(page.lists, many=True),
        "deleted_lists": DELETED.dump(page.deleted_lists, many=True),
        "since": feed_cursor(user_id, since, key),
        "next": feed_cursor(user_id, page.position, key),
        "has_more": page.has_more,
    }


def send(row, message_id: str, kind: str, data: dict, settings: Settings) -> sender.Outcome:
    """Sign and POST one message to the endpoint."""
    moment = datetime.now(UTC)
    body = current_app.json.dumps(
        {"type": kind, "timestamp": moment.isoformat().replace("+00:00", "Z"), "data": data}
    )
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(row.secret).sign(message_id, moment, body),
        "User-Agent": "todo-webhooks/1",
    }
    return sender.post(row.url, body.encode(), headers, settings.reach)


def ping(row, settings: Settings) -> bool:
    """Send the ping asked for, outside the endpoint's sequence, and log how it went (its
    outcome changes nothing else: no retry, no switch-off); whether the lease still held. A
    ping whose sender stopped (or lost its lease) before it was answered stays asked for,
    and is sent again under the same id."""
    outcome = send(row, row.ping_id, "ping", {"endpoint_id": str(row.id)}, settings)
    number = claims.fenced(row, True, ping_id=None)
    if number is None:
        return False
    claims.log_attempt(row.user_id, row.id, number, logged(outcome, None, row, row.ping_id))
    return True


def logged(outcome: sender.Outcome, sequence, row, message_id: str | None = None) -> dict:
    return {
        "message_id": message_id or f"msg_{row.id.hex}_{sequence}",
        "attempted_at": utcnow(),
        "status": outcome.status,
        "latency_ms": outcome.latency_ms,
        "error": outcome.error,
    }
