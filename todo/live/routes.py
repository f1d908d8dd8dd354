"""Live blueprint: tickets (under /api/<user_id>/), and the feed as an event stream the serving
worker holds without a thread (todo/holding.py, server/live.py)."""

from datetime import UTC, datetime

from flask import current_app, g, request
from marshmallow import RAISE

from .. import holding
from ..blueprint import Blueprint
from ..errors import problem
from ..sync import store
from ..sync.pages import cursor_key, wake_keys
from . import examples, tickets
from .events import OPENING
from .schemas import StreamQuerySchema, TicketSchema
from .stream import FeedStream

blp = Blueprint(
    "live",
    __name__,
    url_prefix="/api",
    description="Live: the change feed as a stream of Server-Sent Events, opened with tickets",
)
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


@blp.route("/<user_id:user_id>/changes/tickets", methods=["POST"])
@blp.response(201, TicketSchema, example=examples.TICKET)
@blp.problems(401, 403, 503)
def create_ticket(user_id):
    """Get a ticket that opens the event stream once.

    A browser's EventSource cannot send the bearer token, and the token never goes in a URL:
    this ticket does, for one stream opened within 30 seconds. The stream then lives as long
    as the token (see [Live](/docs/guides/live.md)).
    """
    value, expires = tickets.issue(g.caller, g.claims["exp"], cursor_key())
    return {
        "ticket": value,
        "expires_at": datetime.fromtimestamp(expires, UTC),
        "stream": f"{request.script_root}/api/changes/stream?ticket={value}",
    }


@blp.route("/changes/stream", methods=["GET"])
@blp.public
@blp.arguments(StreamQuerySchema(), location="query", unknown=RAISE, error_status_code=400)
@blp.response(
    200,
    content_type="text/event-stream",
    description="Server-Sent Events: each event a feed page whose id is the cursor after it; "
    "a comment every 15 s at most; an `end` event (`reason`) before the server closes it",
    example=examples.STREAM,
)
@blp.problems(401, 410, 429, 503, examples=examples.STREAM_PROBLEMS)
def stream_changes(query):
    """Stream the change feed as Server-Sent Events.

    Opened with a ticket (no Authorization header), which names the user. Each event's
    `data` is a feed page and its `id` the cursor after it: reopen with `Last-Event-ID` (or
    `since`) and a new ticket to miss and repeat nothing. Ends, with an `end` event saying
    why, when the token expires or is revoked, when a list shared with the user is taken
    away (after the events that say so) and when the server drains (with a short `retry`).
    429/503 with `Retry-After` when the user or the server holds too many.
    """
    key = cursor_key()
    user_id = tickets.user_of(query["ticket"], key)
    since = request.headers.get("Last-Event-ID") or query.get("since")
    position = None
    if since:  # checked first: a ticket is spent only on a stream that opens
        retention = current_app.config["FEED_RETENTION_DAYS"]
        position = store.cursor_position(since, user_id, key, retention)
    ticket = tickets.redeem(query["ticket"], key, spend_nonce)
    store.check_current(ticket.caller)
    g.user_id = ticket.caller.actor_id  # for the log line
    stream = FeedStream(current_app._get_current_object(), ticket, position, key)
    live = holding.gate()
    if live is None:
        body = OPENING + stream.all_at_once()
    else:
        # From a cursor, the owners it follows too: the first step may find nothing new.
        keys = (str(user_id),) if position is None else wake_keys(user_id, position)
        refused = live.stream(keys, stream)
        if refused is not None:
            retry = {"Retry-After": str(refused.retry_after)}
            return problem(refused.status, refused.detail, retry)
        body = OPENING
    # An iterable, so no Content-Length: the worker then sends the events in chunks.
    return current_app.response_class(
        iter([body]), mimetype="text/event-stream", headers=STREAM_HEADERS
    )


def spend_nonce(nonce: str) -> bool:
    """True the first time: counted in the throttles' shared store (todo/throttles.py)."""
    throttles = current_app.extensions["throttles"]
    name, expiry = f"todo:live:ticket:{nonce}", tickets.TICKET_SECONDS + 5
    try:
        return throttles.storage().incr(name, expiry) == 1
    except Exception as error:  # the shared store failed: as the throttles do, memory
        return throttles.fail_over(error).incr(name, expiry) == 1
