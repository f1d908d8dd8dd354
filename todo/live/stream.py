"""One open event stream of the feed: where its client stands, and each step the serving
worker runs for it in a thread (server/live.py) when its user is woken or a heartbeat is due.

A step checks the token (its expiry here; its revocation by the feed's own read, which reads
the user's number only for a current token), then reads the feed after the stream's position
and sends what there is as one event, the position moved past it. So a stream ends at the
latest on the heartbeat after its token stops being valid, saying why; and a member's, after
the page that takes a shared list away from them (once the whole of that change is sent). A
member's stream is woken by the writes of every owner who shares a list with them too."""

import time
import uuid

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from ..accounts.tokens import TokenNotCurrent
from ..holding import Step
from ..sync import store
from ..sync.pages import ends_access, is_empty, page_answer, wake_keys
from ..sync.schemas import FEED_LIMIT
from .events import DRAIN_RETRY_MS, HEARTBEAT, end_event, page_event
from .tickets import Ticket


class FeedStream:
    def __init__(self, app: Flask, ticket: Ticket, since: store.Position | None, key: bytes):
        self.app, self.ticket, self.key = app, ticket, key
        self.position = since
        self.user_id: uuid.UUID = ticket.caller.space_id
        self.access_lost = False  # a page took a shared list away: end once it is all sent

    def step(self, beat: bool) -> Step:
        """In a thread of the worker's: what to send now."""
        with self.app.app_context():
            return self.next_step(beat)

    def next_step(self, beat: bool) -> Step:
        idle = Step(HEARTBEAT if beat else b"")
        if time.time() >= self.ticket.token_expires:
            return Step(end_event("token_expired"), end=True)
        try:
            changes = store.read_changes(self.ticket.caller, self.position, FEED_LIMIT)
        except TokenNotCurrent:
            return Step(end_event("token_revoked"), end=True)
        except store.CursorExpired:
            return Step(end_event("cursor_expired"), end=True)
        except SQLAlchemyError:
            return idle  # the database is away: the next heartbeat tries again
        first = self.position is None
        if is_empty(changes) and not first:
            return idle
        self.position = changes.position
        page = page_answer(changes, self.user_id, self.key)
        event = page_event(page["next"], self.app.json.dumps(page).encode())
        self.access_lost = self.access_lost or ends_access(changes)
        if self.access_lost and not changes.has_more:
            return Step(event + end_event("access_lost"), end=True)
        keys = wake_keys(self.user_id, changes.position)
        return Step(event, more=changes.has_more, keys=keys)

    def drained(self) -> bytes:
        """On the main thread, as the server drains: the last words."""
        return end_event("server_draining", DRAIN_RETRY_MS)

    def all_at_once(self) -> bytes:
        """Without a worker to hold it: every page there is now, then the end."""
        sent = []
        while (step := self.next_step(False)).data:
            sent.append(step.data)
            if step.end:
                return b"".join(sent)
            if not step.more:
                break
        return b"".join(sent) + end_event("not_held")
