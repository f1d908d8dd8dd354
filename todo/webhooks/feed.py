"""An endpoint's next message: a page of the change feed (the feed's own reads, sync/store.py)
from the endpoint's place, the first time up to the user's newest change, every later time
up to the end the first one had (frozen on the endpoint), so every attempt of a message
carries the same rows, or fewer: a row changed again since has moved past the end, and comes
in a later message, in its newest state."""

import uuid

from sqlalchemy import Uuid, bindparam, select

from ..accounts.models import users
from ..accounts.tokens import OWNER
from ..database import first_value
from ..sync.store import (
    AFTER,
    LAST_ID,
    LIMIT,
    SINCE,
    UPTO,
    Changes,
    Position,
    entries_of,
    page_of,
    page_upto,
)

NUMBER = select(users.c.change_number).where(users.c.id == bindparam(OWNER, type_=Uuid))
KINDS = ("task", "list")


def next_page(user_id: uuid.UUID, read: Position, frozen: Position | None, limit: int) -> Changes:
    """The changes after `read`, at most `limit` rows, up to `frozen` if given."""
    number = first_value(NUMBER, {OWNER: user_id}) or 0
    upto = frozen.number if frozen is not None else number
    if read.number >= upto and read.after == LAST_ID:
        return Changes(position=read)
    parameters = {OWNER: user_id, SINCE: read.number, AFTER: read.after, UPTO: upto}
    entries = entries_of({**parameters, LIMIT: limit + 1}, first_sync=False)[: limit + 1]
    if frozen is not None:
        end = (frozen.number, frozen.after)
        entries = [each for each in entries if (each.number, uuid.UUID(each.id)) <= end]
        return page_of(entries, frozen, frozen != Position(number))
    return page_upto(entries, limit, upto)


def filtered(page: Changes, kinds: str | None) -> Changes:
    """The page with only the kinds of rows an endpoint asked for (None: every kind)."""
    if kinds is None:
        return page
    wanted = kinds.split(",")
    return Changes(
        tasks=page.tasks if "task" in wanted else [],
        deleted=page.deleted if "task" in wanted else [],
        lists=page.lists if "list" in wanted else [],
        deleted_lists=page.deleted_lists if "list" in wanted else [],
        position=page.position,
        has_more=page.has_more,
    )


def is_empty(page: Changes) -> bool:
    return not (page.tasks or page.deleted or page.lists or page.deleted_lists)
