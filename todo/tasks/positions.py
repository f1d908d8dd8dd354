"""Placing a row in a manual order (tasks/ordering.py's keys) within its scope: the reads a
move needs over any table with `position` and `id` (the next key after a neighbour, the last
key, the rows around a place), built once per scope, and the keys they give.

When no key fits at a place (equal neighbours, or keys grown long), only the neighbourhood is
re-spaced: a window of rows on each side of the place, doubled until the keys just outside it
leave room for short keys for all of it (with one left free at the place). Inside a run of
equal keys, one side of the window must leave the run, so a move into the middle of N equal
keys re-keys about N rows at most; a window past MOST_RESPACED is refused (OrderTooDense).

A scope is one user's live rows of a table, narrowed by columns that must be equal (a task's
list): `scope_<column>` parameters, compared with IS NOT DISTINCT FROM so null (the Inbox) is
a scope too. Stores pass the owner, the row being moved and the scope's values; they raise
and write, this module only reads.
"""

import uuid
from collections.abc import Mapping

from marshmallow import ValidationError
from sqlalchemy import Table, Uuid, bindparam, func, select, tuple_

from ..accounts.tokens import OWNER
from ..extensions import db
from . import ordering

MOVING, NEIGHBOUR, MARK_POSITION, MARK_ID = "moving", "neighbour", "mark_position", "mark_id"
WINDOW = "window"
FIRST_WINDOW = 16  # rows on each side of a place first re-spaced
MOST_RESPACED = 140_000  # rows a re-spacing may give new keys: 2 windows of 65,536


class OrderTooDense(Exception):
    def __init__(self):
        super().__init__(
            f"More than {MOST_RESPACED} rows around this place share their positions, so no "
            "key fits there: give them distinct positions first."
        )


class StaleOrder(Exception):
    def __init__(self):
        super().__init__(
            "`after` does not sort before `before` any more: the order changed; refetch it."
        )


OTHER_SCOPE = "A neighbour must be in the same scope ({})."


class BadNeighbour(ValidationError):
    """`after` or `before` (the field) names a row that cannot be a neighbour: invalid input
    of that field, answered 422 with `errors` as the schema's own are."""

    def __init__(self, field: str, message: str = "A task cannot be placed next to itself."):
        super().__init__(message, field_name=field)


class UnknownNeighbour(Exception):
    """`after` or `before` names no live row of the caller's: the store says which kind."""


def scope_value(column: str) -> str:
    return f"scope_{column}"


class Scope:
    """The ordering reads of `table`'s live rows (`live`) of one user, in the scope the
    `columns` give (empty: all of the user's)."""

    def __init__(self, table: Table, live, columns: tuple[str, ...] = ()):
        self.columns = columns
        owner = table.c.user_id == bindparam(OWNER, type_=Uuid)
        others = table.c.id != bindparam(MOVING, type_=Uuid)
        within = (
            owner,
            live,
            others,
            *(
                table.c[name].is_not_distinct_from(
                    bindparam(scope_value(name), type_=table.c[name].type)
                )
                for name in columns
            ),
        )
        place = tuple_(table.c.position, table.c.id)
        marked = tuple_(
            bindparam(MARK_POSITION, type_=table.c.position.type),
            bindparam(MARK_ID, type_=Uuid),
        )
        self.row = (table.c.id, table.c.position)
        self.last = select(func.max(table.c.position)).where(*within)
        self.neighbour = select(
            table.c.id, table.c.position, *(table.c[name] for name in columns)
        ).where(owner, live, table.c.id == bindparam(NEIGHBOUR, type_=Uuid))
        self.next = (
            select(table.c.position)
            .where(*within, place > marked)
            .order_by(table.c.position, table.c.id)
            .limit(1)
        )
        self.previous = (
            select(table.c.position)
            .where(*within, place < marked)
            .order_by(table.c.position.desc(), table.c.id.desc())
            .limit(1)
        )
        forward = (table.c.position, table.c.id)
        backward = (table.c.position.desc(), table.c.id.desc())
        window = bindparam(WINDOW)
        # The rows on either side of a mark, nearest first: (left, right) when the mark is
        # the row after which (the row before which) the place is.
        self.sides = {
            "after": (
                select(*self.row).where(*within, place <= marked).order_by(*backward).limit(window),
                select(*self.row).where(*within, place > marked).order_by(*forward).limit(window),
            ),
            "before": (
                select(*self.row).where(*within, place < marked).order_by(*backward).limit(window),
                select(*self.row).where(*within, place >= marked).order_by(*forward).limit(window),
            ),
        }

    def key_between(
        self, parameters: Mapping, after: uuid.UUID | None, before: uuid.UUID | None
    ) -> str:
        """The key for the row `parameters` move (MOVING) directly after `after` and/or before
        `before`, or at the end of the scope; UnknownNeighbour, BadNeighbour (one in another
        scope), StaleOrder (`after` not before `before`), or ordering.NoRoom if none fits."""
        if after is None and before is None:
            last = db.session.scalar(self.last, parameters)
            try:
                return ordering.between(last, None)
            except ordering.NoRoom:  # a client's key at the end is as long as keys go
                return last
        marks = {}
        for name, neighbour in (("after", after), ("before", before)):
            if neighbour is not None:
                marks[name] = self.neighbour_row(parameters, neighbour, name)
        if "after" in marks and "before" in marks:
            low, high = marks["after"], marks["before"]
            if (low.position, low.id) >= (high.position, high.id):
                raise StaleOrder()
            return ordering.between(low.position, high.position)
        if "after" in marks:
            low = marks["after"]
            high = db.session.scalar(self.next, {**parameters, **mark(low)})
            return ordering.between(low.position, high)
        high = marks["before"]
        low = db.session.scalar(self.previous, {**parameters, **mark(high)})
        return ordering.between(low, high.position)

    def neighbour_row(self, parameters: Mapping, neighbour: uuid.UUID, field: str):
        if neighbour == parameters[MOVING]:
            raise BadNeighbour(field)
        row = db.session.execute(self.neighbour, {**parameters, NEIGHBOUR: neighbour}).first()
        if row is None:
            raise UnknownNeighbour()
        for name in self.columns:
            if getattr(row, name) != parameters[scope_value(name)]:
                raise BadNeighbour(field, OTHER_SCOPE.format(name))
        return row

    def respaced(
        self, parameters: Mapping, after: uuid.UUID | None, before: uuid.UUID | None
    ) -> list[tuple[uuid.UUID, str]]:
        """New keys for the rows around the place directly after `after` (else before
        `before`), the one moving left out, such that a short key fits at the place: what a
        re-spacing writes. OrderTooDense if that takes more than MOST_RESPACED rows."""
        side = "after" if after is not None else "before"
        marked = mark(self.neighbour_row(parameters, after or before, side))
        wide = FIRST_WINDOW
        while 2 * wide <= MOST_RESPACED:
            left, right = (
                db.session.execute(reads, {**parameters, **marked, WINDOW: wide + 1}).all()
                for reads in self.sides[side]
            )
            for before_place, after_place in ((wide, 0), (0, wide), (wide, wide)):
                # One side alone first: the side that leaves a run of equal keys.
                outside = (key_of(left, before_place), key_of(right, after_place))
                window = [*reversed(left[:before_place]), *right[:after_place]]
                keys = ordering.spaced_between(*outside, len(window) + 1)
                if keys is not None:
                    del keys[min(len(left), before_place)]  # the place's, left free
                    return [(row.id, key) for row, key in zip(window, keys, strict=True)]
            wide *= 2
        raise OrderTooDense()


def key_of(rows: list, index: int) -> str | None:
    """The key of the row `index` rows away from the place (None past the scope's end)."""
    return rows[index].position if len(rows) > index else None


def mark(row) -> dict:
    return {MARK_POSITION: row.position, MARK_ID: uuid.UUID(str(row.id))}
