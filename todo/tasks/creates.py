"""New tasks: one INSERT … SELECT from the caller's users row (a plain create is one statement),
with what a create may need beside it: a key between two neighbours, the newer fields worked
out by the rules, labels resolved and linked (in a change), and, under an Idempotency-Key or
a client-chosen id, the first answer kept and replayed."""

import uuid
from collections.abc import Callable
from functools import cache

from sqlalchemy import (
    Boolean,
    Row,
    String,
    Text,
    Uuid,
    bindparam,
    case,
    insert,
    literal_column,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .. import idempotency
from ..accounts.models import users
from ..accounts.store import load_account
from ..accounts.tokens import (
    ACTOR,
    CALLER_ROW_IS_CURRENT,
    OWNER,
    USER_GONE,
    Caller,
    TokenNotCurrent,
)
from ..columns import utcnow
from ..database import dialect_insert, first_row, transaction
from ..extensions import db
from ..idempotency import Answer
from ..labels import store as label_store
from . import assignees, due, ordering, placement, revision, structure
from .changes import NOW, PENDING, Change, change, joined, now
from .models import TASK_ROW, tasks
from .rows import (
    SELECT_TASK_VERSION,
    TASK_ID,
    TOMBSTONE,
    USER_ZONE,
    IdConflict,
    not_found,
    ownership,
    run_by,
    shape_for,
)

TITLE, DESCRIPTION, COMPLETED = "title", "description", "completed"
APPENDED = "appended"  # the bind parameter of a key's place in its change
# Columns a new task may be given, and what they are if not.
OPTIONAL_VALUES = {
    **due.NO_DUE,
    **revision.NO_RECURRENCE,
    "priority": 0,
    "reminders": [],
    "list_id": None,
    "parent_id": None,
    "labels": [],
    "assignee_id": None,
}
OPTIONAL_COLUMNS = tuple(OPTIONAL_VALUES)
# What makes a create a change of its own: a placement (which may re-space its neighbours),
# labels (created and linked beside the task).
CHANGE_FIELDS = frozenset({*placement.NEIGHBOURS, "labels"})


@cache
def insert_shape(dialect: str, pending: bool, chosen: bool, placed: bool = False):
    """INSERT … SELECT of one task FROM the caller's users row while the token is current (on
    Citus the insert then goes to that user's shard). Its change number is taken by the row's
    trigger, or PENDING inside a change. A client-chosen id inserts nothing if it is taken, or
    was ever purged (a deleted id is never resurrected). A `placed` task's position is a
    parameter; otherwise it goes to the end (`appended_position`)."""
    completed = bindparam(COMPLETED, type_=Boolean)
    actor = bindparam(ACTOR, type_=Uuid)
    row = select(
        bindparam(TASK_ID, type_=Uuid),
        users.c.id,
        bindparam(TITLE, type_=String),
        bindparam(DESCRIPTION, type_=Text),
        completed,
        now,
        now,
        case((completed, now), else_=None),
        *(bindparam(name, type_=tasks.c[name].type) for name in OPTIONAL_COLUMNS),
        (
            bindparam("position", type_=tasks.c.position.type)
            if placed
            else appended_position(users.c.change_number + literal_column("1"), pending)
        ),
        literal_column(str(PENDING if pending else 0)),
        literal_column("1"),
        actor,
        actor,
        case((completed, actor), else_=None),
    ).where(CALLER_ROW_IS_CURRENT)
    columns = [
        *("id", "user_id", "title", "description", "completed", "created_at", "updated_at"),
        *("completed_at", *OPTIONAL_COLUMNS, "position"),
    ]
    if not chosen:
        statement = insert(tasks)
    else:
        row = row.where(~TOMBSTONE)
        statement = dialect_insert(tasks, dialect)
    statement = statement.from_select(
        [*columns, "change_number", "version", "created_by", "updated_by", "completed_by"],
        row,
        include_defaults=False,
    )
    if chosen:
        statement = statement.on_conflict_do_nothing()
    return statement.returning(*TASK_ROW)


def appended_position(number, pending: bool):
    """The key of a task added at the end, in the INSERT itself: the user's next change
    number as a fractional index's integer part of fixed width (`y` and 25 decimal digits,
    valid base-62 digits), so it sorts after every key made before it: appended keys follow
    the counter, and a move to the end takes the key after the last one and a number of its
    own. The tasks one change adds (a batch's, sharing its number) follow it with their
    place in the change (APPENDED parameter: ordering.appended_fraction)."""
    key = literal_column(f"'{ordering.APPENDED_HEAD}'", String) + fixed_width(number)
    return key + bindparam(APPENDED, type_=String) if pending else key


class fixed_width(FunctionElement):
    """Its number's last ordering.APPENDED_DIGITS decimal digits, zeros before them. Written
    with its constants in the SQL: as bound values they were five parameters for psycopg2 to
    adapt and ~200 more characters for it to copy on every create."""

    type = String()
    name = "fixed_width"
    inherit_cache = True


@compiles(fixed_width)  # PostgreSQL (a bigint has at most 19 digits: lpad cuts none)
def fixed_width_by_lpad(element, compiler, **kw):
    number = compiler.process(element.clauses, **kw)
    return f"lpad(({number})::text, {ordering.APPENDED_DIGITS}, '0')"


@compiles(fixed_width, "sqlite")
def fixed_width_by_substr(element, compiler, **kw):
    number, digits = compiler.process(element.clauses, **kw), ordering.APPENDED_DIGITS
    return f"substr('{'0' * digits}' || CAST({number} AS TEXT), -{digits})"


def insert_task(caller: Caller, fields: dict, within: Change | None) -> tuple[Row | None, int]:
    """One INSERT … SELECT; with a client-chosen id (`fields["id"]`), None if it is taken. A
    task placed `after` and/or `before` others, or with labels, is written in a change (the
    one given, or its own); how many tasks were re-spaced to place it is the second value."""
    if within is None and not CHANGE_FIELDS & fields.keys():
        if not assignees.assigns_member(caller, fields):
            return inserted(caller, fields, None)
        with transaction():  # the membership's lock held to the INSERT's commit
            return inserted(caller, fields, None)
    with joined(caller.space_id, within) as within:
        return inserted(caller, fields, within)


def inserted(caller: Caller, fields: dict, within: Change | None) -> tuple[Row | None, int]:
    """`insert_task`'s steps, in the change (or not) it runs in: the task's place checked
    (list and parent, structure.py), its key between neighbours, the newer fields as the
    rules make them (revision.py), the labels resolved; the INSERT; the labels linked."""
    checked_in = assignees.checked(caller, None, fields)
    if structure.FIELDS & fields.keys():
        fields = {**fields, **structure.placed(caller, None, (None, None), fields)}
    assignees.recheck(caller, checked_in, fields.get("list_id"), fields)
    task_id = fields.get("id") or uuid.uuid4()
    skipped = ("id", *revision.MERGED, *placement.NEIGHBOURS)
    columns = {name: v for name, v in fields.items() if name not in skipped}
    rebalanced = 0
    if placement.NEIGHBOURS & fields.keys():
        scope = placement.scope_of(caller, task_id, fields.get("list_id"), fields.get("parent_id"))
        columns["position"], rebalanced = placement.key_in(scope, within, fields)
    if revision.MERGED_FIELDS & fields.keys():
        zone_name = db.session.scalar(USER_ZONE, {OWNER: caller.space_id})
        columns.update(revision.new_task(fields, zone_name))
    label_ids = []
    if "labels" in fields:
        columns["labels"], label_ids = label_store.resolve(caller.space_id, fields["labels"])
    task = first_row(
        insert_statement(within, "id" in fields, columns),
        insert_values(caller, task_id, columns, within),
    )
    if task is not None and label_ids:
        label_store.link(caller.space_id, task_id, label_ids)
    return task, rebalanced


def insert_statement(within: Change | None, chosen: bool, columns: dict):
    return shape_for(insert_shape, within, chosen, "position" in columns)


def insert_values(caller: Caller, task_id: uuid.UUID, columns: dict, within: Change | None) -> dict:
    """The INSERT's parameters: the columns given, the others' defaults; inside a change, an
    appended task's place in it (its key follows the change's number: appended_position)."""
    parameters = {
        **caller.parameters,
        COMPLETED: False,
        **OPTIONAL_VALUES,
        **columns,
        TASK_ID: task_id,
        NOW: utcnow(),
    }
    if within is not None and "position" not in columns:
        parameters[APPENDED] = ordering.appended_fraction(next(within.appended))
    return parameters


def id_key(task_id: uuid.UUID) -> str:
    """The idempotency key under which the answer to a create with a chosen id is kept."""
    return f"task-id:{task_id}"


def add_task(caller: Caller, fields: dict, within: Change | None = None) -> tuple[Row, int]:
    """A new task, and how many tasks were re-spaced to place it; IdConflict if its
    client-chosen id is taken (inside a batch, where no answer is replayed)."""
    task, rebalanced = insert_task(caller, fields, within)
    if task is None:
        if "id" in fields:
            load_account(caller)
            raise IdConflict()
        not_found(caller)  # not_found() raises 401 here
    return task, rebalanced


class IdTaken(Exception):
    """The INSERT with a client-chosen id found it taken and inserted nothing. Its transaction
    is rolled back all the same: on PostgreSQL the row triggers that run before an INSERT
    (numbering and counting the row) ran for the row ON CONFLICT DO NOTHING then skipped."""


def add_task_once(
    caller: Caller,
    fields: dict,
    keyed: tuple[str | None, str],
    answer_for: Callable[[Row, int], Answer],
) -> Answer:
    """Create a task under an Idempotency-Key or a client-chosen id (or both): `keyed` is the
    key (or None) and the request's fingerprint. The first answer (`answer_for` the new task
    and how many tasks were re-spaced for it) is stored with the task, in one transaction,
    and a retry with the same body within 24 h gets it back. A chosen id that is taken
    otherwise (another body, older, trashed or purged) is IdConflict.

    Concurrent first tries race: with a chosen id, the later INSERT waits for the first and
    inserts nothing, and the stored answer is read; with a key only, the later one's key
    conflicts, its whole transaction (its task included) rolls back, and it replays the
    first's answer."""
    key, request_hash = keyed
    load_account(caller)  # a stored answer is replayed only to a token that is still current
    keys = [k for k in (key, "id" in fields and id_key(fields["id"])) if k]
    try:
        # Placed after or before other tasks (which may be re-spaced), or labelled: a change.
        in_a_change = CHANGE_FIELDS & fields.keys()
        with change(caller.space_id) if in_a_change else transaction() as within:
            idempotency.purge_expired(caller.space_id)
            if key and (replay := idempotency.stored_answer(caller.space_id, key, request_hash)):
                return replay
            task, rebalanced = inserted(caller, fields, within)
            if task is None:
                raise IdTaken()  # rolled back: the row it did not insert counted nothing
            answer = answer_for(task, rebalanced)
            for each in keys:
                idempotency.remember(caller.space_id, each, request_hash, answer)
    except IdTaken:
        return replay_of_id(caller, fields["id"], request_hash)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did. With no
        # answer stored, what conflicted was the user, deleted meanwhile.
        if key and (replay := idempotency.stored_answer(caller.space_id, key, request_hash)):
            return replay
        if "id" in fields:
            return replay_of_id(caller, fields["id"], request_hash)
        raise TokenNotCurrent(USER_GONE) from None
    return answer


def replay_of_id(caller: Caller, task_id: uuid.UUID, request_hash: str) -> Answer:
    """The first answer to a create with this chosen id and body, while the task is live;
    else IdConflict."""
    try:
        replay = idempotency.stored_answer(caller.space_id, id_key(task_id), request_hash)
    except idempotency.KeyReused:
        raise IdConflict() from None
    version = run_by(caller, SELECT_TASK_VERSION)
    live = db.session.scalar(version, ownership(caller, task_id)) is not None
    if replay is None or not live:
        raise IdConflict()
    return replay
