"""The feed as Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html):
each event a feed page (`data`, one line of JSON) whose `id` is the cursor after it, so a client
that reconnects with `Last-Event-ID` (or `since`) misses and repeats nothing; a comment as the
heartbeat; an `end` event saying why the server ends a stream; `retry` set at the start."""

import json

RETRY_MS = 3000  # what a client waits before reconnecting, set as the stream opens
DRAIN_RETRY_MS = 1000  # the hint on a drain: reconnect soon, to another server
OPENING = b"retry: %d\n\n" % RETRY_MS
HEARTBEAT = b": heartbeat\n\n"

# Why a stream ends (the `reason` of its `end` event), and what to tell the client.
ENDINGS = {
    "token_expired": "The token expired: log in again, get a ticket and reopen from the last id.",
    "token_revoked": "The token is no longer valid (logged out, password changed or account "
    "deleted).",
    "cursor_expired": "The cursor is older than the feed remembers deletions: sync again "
    "without `since`.",
    "server_draining": "This server is shutting down: get a new ticket and reopen from the "
    "last id.",
    "not_held": "This server cannot hold streams: it sent what there was; poll the feed.",
    "access_lost": "A list shared with you is no longer yours to see (the events before say "
    "which, and why): reopen from the last id to go on.",
}


def page_event(cursor: str, page: bytes) -> bytes:
    return b"id: %b\ndata: %b\n\n" % (cursor.encode(), page)


def end_event(reason: str, retry_ms: int | None = None) -> bytes:
    body = json.dumps({"reason": reason, "detail": ENDINGS[reason]}).encode()
    retry = b"retry: %d\n" % retry_ms if retry_ms is not None else b""
    return retry + b"event: end\ndata: %b\n\n" % body
