"""Where a task goes in the manual order: the key between two neighbours of its scope (a list,
the Inbox, a parent's subtasks), and the re-spacing that makes room when no key fits there.
The reads of a scope are positions.Scope's; this gives them the caller's task scope and
writes the keys a re-spacing gives."""

import uuid
from collections.abc import Mapping

from sqlalchemy import String, Uuid, bindparam, case, column, true, update, values

from ..accounts.tokens import OWNER, Caller
from ..columns import utcnow
from ..extensions import db
from . import ordering, positions
from .changes import NOW, Change, stamped
from .models import tasks
from .rows import LIVE, TaskNotFound

# The manual order's scope: a user's live tasks of one list (null: the Inbox) and one parent
# (null: the top-level tasks).
TASK_SCOPE = positions.Scope(tasks, LIVE, ("list_id", "parent_id"))
RESPACED_PAGE = 1000  # tasks given new keys by one statement of a re-spacing
NEIGHBOURS = ("after", "before")


def scope_of(caller: Caller, moving: uuid.UUID, list_id, parent_id) -> dict:
    """The parameters of TASK_SCOPE's reads for `moving` in a list (None: the Inbox) under a
    parent (None: at the top level)."""
    return {
        OWNER: caller.space_id,
        positions.MOVING: moving,
        positions.scope_value("list_id"): list_id,
        positions.scope_value("parent_id"): parent_id,
    }


def key_in(scope: dict, within: Change, place: Mapping) -> tuple[str, int]:
    """The key directly after `place["after"]` and/or before `place["before"]` (live tasks of
    the scope), or at its end, and how many tasks were re-spaced, as part of `within`, to make
    room for it when none fitted (equal neighbours, or keys grown past
    ordering.REBALANCE_AFTER). TaskNotFound for a neighbour that is none of the caller's live
    tasks; BadNeighbour for the task itself, or one of another scope."""
    after, before = place.get("after"), place.get("before")
    try:
        return key_between(scope, after, before), 0
    except ordering.NoRoom:
        rebalanced = respace(within, scope, after, before)
        return key_between(scope, after, before), rebalanced


def key_between(scope: dict, after: uuid.UUID | None, before: uuid.UUID | None) -> str:
    try:
        return TASK_SCOPE.key_between(scope, after, before)
    except positions.UnknownNeighbour:
        raise TaskNotFound() from None


def respace(within: Change, scope: dict, after, before) -> int:
    """New keys for the live tasks around the place after `after` (else before `before`) in
    the scope, so that the one moving gets a short key there next (positions.Scope.respaced),
    written RESPACED_PAGE tasks a statement, as part of `within` (one change number); how
    many."""
    keys = TASK_SCOPE.respaced(scope, after, before)
    parameters = {OWNER: within.user_id, NOW: utcnow()}
    for start in range(0, len(keys), RESPACED_PAGE):
        page = keys[start : start + RESPACED_PAGE]
        db.session.execute(respace_shape(db.engine.dialect.name, page), parameters)
    return len(keys)


def respace_shape(dialect: str, keys: list[tuple[uuid.UUID, str]]):
    """One UPDATE giving each task of `keys` its new key: joined to them as a VALUES list on
    PostgreSQL, a CASE over the ids on SQLite (which names no columns of a VALUES list)."""
    owner = tasks.c.user_id == bindparam(OWNER, type_=Uuid)
    if dialect != "postgresql":
        new_keys = case(dict(keys), value=tasks.c.id)
        return (
            update(tasks)
            .where(owner, tasks.c.id.in_(dict(keys)))
            .values(**stamped({"position": new_keys}, true(), dialect, True))
        )
    given = values(column("id", Uuid), column("position", String), name="respaced").data(keys)
    return (
        update(tasks)
        .where(owner, tasks.c.id == given.c.id)
        .values(**stamped({"position": given.c.position}, true(), dialect, True))
    )
