"""The statements that read and change one user's lists. Lists are few and written rarely, so
every write is a change (tasks/changes.py) of a few statements in one transaction, the list's
row locked first; trashing or restoring a list moves its tasks with it in one more statement,
under the same change number. Like the task store, it takes the caller explicitly, raises
domain errors and knows nothing of HTTP."""

import uuid
from datetime import datetime
from functools import cache

from sqlalchemy import (
    Row,
    Uuid,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    update,
)

from .. import idempotency
from ..accounts.models import users
from ..accounts.store import load_account
from ..accounts.tokens import CALLER_ROW_IS_CURRENT, OWNER, TOKEN_IS_CURRENT, Caller
from ..columns import UTCDateTime, utcnow
from ..database import statement_rows
from ..extensions import db
from ..idempotency import Answer
from ..tasks import ordering, positions
from ..tasks.changes import PENDING, Change, change, current_number
from ..tasks.models import tasks
from .models import LIST_ROW, MOST_LIVE, lists, purged_lists

LIST_ID, NOW, KEPT_SINCE, VERSIONS, WAS_DELETED_AT = (
    "the_list",
    "now",
    "kept_since",
    "versions",
    "was_deleted_at",
)


class ListNotFound(Exception):
    def __init__(self):
        super().__init__("List not found")


class ListChanged(Exception):
    def __init__(self):
        super().__init__("The list has changed since the ETag in If-Match.")


class ListGone(Exception):
    def __init__(self):
        super().__init__("The list was purged from the trash; it cannot be restored.")


class TooManyLists(Exception):
    def __init__(self):
        super().__init__(f"A user has at most {MOST_LIVE} live lists: delete one first.")


class ListIdConflict(Exception):
    def __init__(self):
        super().__init__(
            "A list with this id exists, existed, or was created with another body; "
            "choose a new id."
        )


OWNER_ID = bindparam(OWNER, type_=Uuid)
LIVE = lists.c.deleted_at.is_(None)
now = bindparam(NOW, type_=UTCDateTime)


def mine(statement):
    """Narrow a statement to one list of the caller's."""
    return statement.where(
        lists.c.user_id == OWNER_ID, lists.c.id == bindparam(LIST_ID, type_=Uuid)
    )


def counted(*conditions):
    """How many of the list's tasks match: a live list's live tasks, or a trashed list's
    tasks trashed with it (what restoring it brings back)."""
    return (
        select(func.count())
        .select_from(tasks)
        .where(
            tasks.c.user_id == OWNER_ID,
            tasks.c.list_id == lists.c.id,
            tasks.c.deleted_at.is_not_distinct_from(lists.c.deleted_at),
            *conditions,
        )
        .scalar_subquery()
    )


COUNTED_ROW = (
    *LIST_ROW,
    counted().label("task_count"),
    counted(tasks.c.completed).label("completed_count"),
)
SELECT_LIST = mine(select(*COUNTED_ROW)).where(LIVE, TOKEN_IS_CURRENT)
SELECT_ANY_LIST = mine(select(*COUNTED_ROW)).where(TOKEN_IS_CURRENT)
LOCK_LIST = (
    mine(select(lists.c.version, lists.c.deleted_at)).where(TOKEN_IS_CURRENT).with_for_update()
)
LIVE_LISTS = (
    select(*COUNTED_ROW)
    .where(lists.c.user_id == OWNER_ID, LIVE, TOKEN_IS_CURRENT)
    .order_by(lists.c.position, lists.c.id)
)
TRASHED_LISTS = (
    select(*COUNTED_ROW)
    .where(
        lists.c.user_id == OWNER_ID,
        lists.c.deleted_at >= bindparam(KEPT_SINCE, type_=UTCDateTime),
        TOKEN_IS_CURRENT,
    )
    .order_by(lists.c.deleted_at.desc(), lists.c.id.desc())
)
LIVE_COUNT = select(func.count()).select_from(lists).where(lists.c.user_id == OWNER_ID, LIVE)
# The caller's users row, locked: list creations queue on it, so none passes the limit.
LOCK_USER = select(users.c.id).where(CALLER_ROW_IS_CURRENT).with_for_update()
TOMBSTONE = exists().where(
    purged_lists.c.user_id == OWNER_ID, purged_lists.c.id == bindparam(LIST_ID, type_=Uuid)
)
# A chosen id is taken by any list of the caller's, live, trashed or purged.
TAKEN = select(or_(TOMBSTONE, exists(mine(select(lists.c.id)))))
LIST_SCOPE = positions.Scope(lists, LIVE)
# A list's tasks: trashed with it (live ones), restored with it (those trashed with it).
OF_LIST = (tasks.c.user_id == OWNER_ID, tasks.c.list_id == bindparam(LIST_ID, type_=Uuid))
PURGE_TASKS = (
    delete(tasks).where(*OF_LIST).returning(tasks.c.id, tasks.c.deleted_at, tasks.c.list_id)
)
PURGE_LIST = mine(delete(lists))


def listed(caller: Caller, list_id: uuid.UUID) -> dict:
    return {**caller.parameters, LIST_ID: list_id}


def read_list(caller: Caller, list_id: uuid.UUID) -> Row:
    found = db.session.execute(SELECT_LIST, listed(caller, list_id)).first()
    return found if found is not None else not_found(caller)


def not_found(caller: Caller):
    load_account(caller)  # TokenNotCurrent if the token is why
    raise ListNotFound()


def all_lists(caller: Caller, trash_since: datetime | None = None) -> tuple[list[Row], int]:
    """The caller's live lists in order (or its trash, newest deletion first), and the
    change number they reflect (read first: the ETag never claims a later state)."""
    number = current_number(caller)
    if number is None:
        not_found(caller)
    if trash_since is None:
        return statement_rows(LIVE_LISTS, caller.parameters), number
    parameters = {**caller.parameters, KEPT_SINCE: trash_since}
    return statement_rows(TRASHED_LISTS, parameters), number


def list_number(caller: Caller) -> int | None:
    """The change number the live lists are at now (what their ETag quotes)."""
    return current_number(caller)


def add_list(caller: Caller, fields: dict, request_hash: str, answer_for) -> Answer:
    """A new list, at the end of the order or placed `after`/`before` others. With a chosen
    `id`, the answer is kept 24 h: the same id and body again get it back (replayed);
    otherwise a taken id is ListIdConflict."""
    chosen = "id" in fields
    list_id = fields["id"] if chosen else uuid.uuid4()
    if chosen and (replay := replay_of_id(caller, list_id, request_hash)):
        return replay
    try:
        with change(caller.space_id, of_lists=True) as within:
            if db.session.scalar(LOCK_USER, caller.parameters) is None:
                not_found(caller)
            if chosen:
                idempotency.purge_expired(caller.space_id)
                if db.session.scalar(TAKEN, listed(caller, list_id)):
                    raise ListIdConflict()
            if db.session.scalar(LIVE_COUNT, {OWNER: caller.space_id}) >= MOST_LIVE:
                raise TooManyLists()
            stamp = utcnow()
            position, rebalanced = placed(within, list_id, fields)
            db.session.execute(
                insert(lists).values(
                    user_id=caller.space_id,
                    id=list_id,
                    name=fields["name"],
                    position=position,
                    version=1,
                    change_number=PENDING,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
            answer = answer_for(read_list(caller, list_id), rebalanced)
            if chosen:
                idempotency.remember(caller.space_id, id_key(list_id), request_hash, answer)
    except ListIdConflict:
        # A retry of the same create that came in while the first was being written.
        if replay := replay_of_id(caller, list_id, request_hash):
            return replay
        raise
    return answer


def id_key(list_id: uuid.UUID) -> str:
    return f"list-id:{list_id}"


def replay_of_id(caller: Caller, list_id: uuid.UUID, request_hash: str) -> Answer | None:
    """The first answer to a create with this id and body, while the list is live; None if
    there is none; ListIdConflict for another body."""
    try:
        replay = idempotency.stored_answer(caller.space_id, id_key(list_id), request_hash)
    except idempotency.KeyReused:
        raise ListIdConflict() from None
    if replay is None:
        return None
    if db.session.execute(SELECT_LIST, listed(caller, list_id)).first() is None:
        raise ListIdConflict()
    return replay


def placed(within: Change, list_id: uuid.UUID, place: dict) -> tuple[str, int]:
    """The key for `list_id` after `place["after"]` and/or before `place["before"]`, or at
    the end, and how many lists were re-spaced first (in `within`) because no key fitted."""
    scope = {OWNER: within.user_id, positions.MOVING: list_id}
    after, before = place.get("after"), place.get("before")
    try:
        try:
            return LIST_SCOPE.key_between(scope, after, before), 0
        except ordering.NoRoom:
            rebalanced = respace(within, scope, after, before)
            return LIST_SCOPE.key_between(scope, after, before), rebalanced
    except positions.UnknownNeighbour:
        raise ListNotFound() from None


def respace(within: Change, scope: dict, after, before) -> int:
    """New keys for the live lists around the place the one moving goes (positions.Scope.
    respaced; a user has 500 at most); how many."""
    rows = [
        {OWNER: within.user_id, LIST_ID: list_id, "new_position": key, NOW: utcnow()}
        for list_id, key in LIST_SCOPE.respaced(scope, after, before)
    ]
    if rows:
        db.session.execute(update_shape(("position",), False, checked=False), rows)
    return len(rows)


@cache
def update_shape(
    columns: tuple[str, ...], by_version: bool, checked: bool = True, trashed: bool = False
):
    """UPDATE of a live list's columns (or a `trashed` one's; new values `new_<column>`); its
    version, number and updated_at move only if a value really changes. `checked`: while the
    token is current, and If-Match's versions if `by_version`."""
    values = {name: bindparam(f"new_{name}", type_=lists.c[name].type) for name in columns}
    changed = or_(false(), *(lists.c[name].is_distinct_from(v) for name, v in values.items()))
    values["version"] = case((changed, lists.c.version + 1), else_=lists.c.version)
    values["change_number"] = case((changed, PENDING), else_=lists.c.change_number)
    values["updated_at"] = case((changed, now), else_=lists.c.updated_at)
    statement = mine(update(lists).values(**values)).where(~LIVE if trashed else LIVE)
    if checked:
        statement = statement.where(TOKEN_IS_CURRENT)
    if by_version:
        statement = statement.where(lists.c.version.in_(bindparam(VERSIONS, expanding=True)))
    return statement


def locked(caller: Caller, list_id: uuid.UUID, versions, live: bool = True) -> Row:
    """The list's version and trash time, its row locked to the end of the change: ListNotFound
    (also for a trashed list when `live`), ListChanged for a stale If-Match."""
    current = db.session.execute(LOCK_LIST, listed(caller, list_id)).first()
    if current is None or (live and current.deleted_at is not None):
        not_found(caller)
    if versions is not None and current.version not in versions:
        raise ListChanged()
    return current


def change_list(caller: Caller, list_id: uuid.UUID, values: dict, versions) -> Row:
    """Rename a list, or give it a client-computed position."""
    with change(caller.space_id, of_lists=True):
        locked(caller, list_id, versions)
        write(caller, list_id, values)
        return read_list(caller, list_id)


def write(caller: Caller, list_id: uuid.UUID, values: dict, trashed: bool = False) -> None:
    columns = tuple(sorted(values))
    parameters = {f"new_{name}": values[name] for name in columns}
    statement = update_shape(columns, False, trashed=trashed)
    db.session.execute(statement, {**listed(caller, list_id), **parameters, NOW: utcnow()})


def move_list(caller: Caller, list_id: uuid.UUID, place: dict, versions) -> tuple[Row, int]:
    """Place a list after / before others, or at the end; the list, and how many lists were
    re-spaced to make room."""
    with change(caller.space_id, of_lists=True) as within:
        locked(caller, list_id, versions)
        key, rebalanced = placed(within, list_id, place)
        write(caller, list_id, {"position": key})
        return read_list(caller, list_id), rebalanced
