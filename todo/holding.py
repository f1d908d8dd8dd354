"""The app's side of the serving worker's live hub (server/gate.py): asking it to hold a
request (a waiting poll, an event stream, an export) without a thread, what a held stream's
step gives, and telling every worker on every host that a user's data changed, so the requests
held for that user look again.

Under another WSGI server (the Flask test client, `flask run`) there is no hub: a poll is
answered at once, a stream sends what there is and ends, and an export is written by the
request's thread.
"""

import time
from typing import NamedTuple

from flask import Request, after_this_request, g, request

ENVIRON_KEY = "todo.live"  # server/gate.py's
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Blueprints and routes whose writes change nothing a held request reads (a ticket, a webhook,
# a calendar subscription, an import's preview): they wake no one, or every stream a user
# opens would wake every other of theirs.
QUIET = frozenset({"live", "webhooks"})
QUIET_ROUTES = frozenset(
    {
        "portability.preview_import",
        "portability.create_subscription",
        "portability.revoke_subscription",
    }
)


class Step(NamedTuple):
    """What one step of a held stream gives the worker (server/gate.py): bytes to send,
    whether another step should follow at once (`more`: a feed page ended inside the feed,
    an export not yet at its end), whether the stream ends, and the keys it waits on from now
    (a member's owners; empty: as before)."""

    data: bytes = b""
    more: bool = False
    end: bool = False
    keys: tuple[str, ...] = ()


def gate():
    """The hub's gate for this request; None outside the serving worker, and for a HEAD
    request (its answer has no body: nothing to hold, the server drops what the view gives)."""
    if request.method == "HEAD":
        return None
    return request.environ.get(ENVIRON_KEY)


def wait(keys: tuple[str, ...], seconds: int):
    """Hold this request until one of `keys` (the user's first) is woken or `seconds` pass;
    the view's answer is then thrown away and the request runs again. None when held, or
    when it is to be answered now (no hub, the wait is over, the server drains); else the
    hub's Refusal to answer."""
    live = gate()
    if live is None or live.over or live.draining:
        return None
    return live.wait(keys, live.deadline or time.monotonic() + seconds)


def rerun(this: Request) -> bool:
    """The run of request `this` is a held request's run again (after a wake-up, a re-check
    or its deadline)."""
    live = this.environ.get(ENVIRON_KEY)
    return live is not None and live.deadline is not None


def held(this: Request) -> bool:
    """The run of request `this` gives an answer that is thrown away (the request is held and
    runs again)."""
    live = this.environ.get(ENVIRON_KEY)
    return live is not None and live.held is not None


def wake_after_write(this: Request) -> None:
    """For the token check, with the request it looked up: a write served by the worker
    wakes its user's held requests once answered (`wake_on_write`). Reads, most requests,
    and every request outside the worker register nothing."""
    if this.method in WRITES and ENVIRON_KEY in this.environ:
        after_this_request(wake_on_write)


def also_wake(user_ids) -> None:
    """This write changed other users' data too (a member leaving unassigns their tasks in
    the owner's space): those users' held requests look again with the writer's."""
    g.also_woken = [*g.get("also_woken", ()), *(str(user_id) for user_id in user_ids)]


def wake_on_write(response):
    """After a write that succeeded, its user's held requests look again, on every host (the
    worker wakes them once the answer is out: server/gate.py). A hint: a write that changed
    nothing costs them one read."""
    this = request._get_current_object()  # read several times: the proxy looked up once
    if (
        response.status_code < 400
        and this.blueprint not in QUIET
        and this.endpoint not in QUIET_ROUTES
    ):
        caller = g.get("caller")
        if caller is not None:
            this.environ[ENVIRON_KEY].wake([str(caller.space_id), *g.get("also_woken", ())])
    return response
