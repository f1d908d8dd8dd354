"""A batch of task writes, applied in order through the task store, in one change (one
number): all or nothing (atomic), or each on its own.

It knows no HTTP: it receives the operations as the route loaded them (each a dict, or the
ValidationError its schema raised), and a failed operation is an `OperationFailed` (atomic)
or an outcome holding the error (not atomic); the route turns errors into problems.
"""

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from marshmallow import ValidationError
from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from .. import idempotency
from ..accounts.store import load_account
from ..accounts.tokens import Caller
from ..etags import versions_in
from ..extensions import db
from ..idempotency import Answer
from ..labels.store import TooManyLabels
from ..sharing import access
from ..tasks import creates, trash
from ..tasks.changes import Change, change
from ..tasks.rows import IdConflict, TaskChanged, TaskGone, TaskNotFound
from ..tasks.writes import TaskWrite, write_task

# What fails one operation, not the request: its input, or the task it names.
OPERATION_ERRORS = (
    ValidationError,
    TaskNotFound,
    TaskChanged,
    TaskGone,
    IdConflict,
    trash.ParentInTrash,
    TooManyLabels,
    access.ReadOnly,
    access.NotSharedList,
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one operation did: the task it leaves (None for a delete), or its error."""

    op: str
    task: Row | None = None
    error: Exception | None = None


class OperationFailed(Exception):
    """An operation of an atomic batch failed: nothing of the batch was applied."""

    def __init__(self, index: int, op: str, error: Exception):
        super().__init__(str(error))
        self.index, self.op, self.error = index, op, error


@dataclass(frozen=True)
class Trash:
    """The trash's rules, from the settings: how long it keeps tasks (0: a delete purges)."""

    days: int
    since: datetime  # the oldest deletion still restorable


@dataclass(frozen=True)
class Invalid:
    """An operation its schema refused: its `op` as sent, and the schema's error (with the
    single routes' messages)."""

    op: str
    error: ValidationError


@dataclass(frozen=True)
class Batch:
    """A batch as asked: its operations as the route loaded them (a dict each, or Invalid),
    all or nothing or each on its own, the trash's rules, and (Idempotency-Key, request
    fingerprint) when keyed."""

    operations: list[dict | Invalid]
    atomic: bool
    trash: Trash
    keyed: tuple[str, str] | None = None


def apply(caller: Caller, operation: dict, trash_rules: Trash, within: Change) -> Row | None:
    """Run one loaded operation; the task it leaves (None for a delete). A member's runs as
    the same write would at its own route: as an editor, in the lists shared with them."""
    op = operation["op"]
    if op == "create":
        caller = access.writer(caller)
        access.keeps_to_shared(caller, operation["task"], required=True)
        return creates.add_task(caller, operation["task"], within)[0]
    versions = versions_in(operation.get("if_match"))
    caller = access.writer(caller, operation["id"])
    write = TaskWrite(caller, operation["id"], {}, versions, within=within)
    if op in ("patch", "replace"):
        changes = operation["changes"] if op == "patch" else operation["task"]
        access.keeps_to_shared(caller, changes)
        return write_task(write.but(changes=changes)).task
    if op == "complete":
        changes = {"completed": operation["completed"]} if "completed" in operation else {}
        occurrence = operation.get("occurrence")
        return write_task(write.but(changes=changes, flip=not changes, occurrence=occurrence)).task
    if op == "restore":
        return trash.restore_task(write, trash_rules.since)
    if operation.get("purge") or not trash_rules.days:
        trash.purge_task(write)
    else:
        trash.trash_task(write)
    return None


def run(caller: Caller, batch: Batch, answer_for: Callable[[list[Outcome]], Answer]) -> Answer:
    """Run a batch in one change (one number). Atomic: every operation or none
    (OperationFailed for the first that fails; every check before any write). Not atomic:
    each in a savepoint, so a failed one undoes only itself, and each outcome says how it
    went. Keyed: the answer is stored with the writes, and a retry gets it back; of
    concurrent retries, the first to commit stands and the others, their writes rolled
    back, answer as it did."""
    if batch.atomic:
        for index, loaded in enumerate(batch.operations):
            if isinstance(loaded, Invalid):
                raise OperationFailed(index, loaded.op, loaded.error)
    load_account(caller)  # a stored answer is replayed only to a token that is still current
    try:
        return apply_all(caller, batch, answer_for)
    except IntegrityError:
        if batch.keyed and (replay := idempotency.stored_answer(caller.space_id, *batch.keyed)):
            return replay
        raise


def apply_all(caller: Caller, batch: Batch, answer_for) -> Answer:
    """`run`'s change: the loaded operations applied in order, and the answer stored."""
    with change(caller.space_id) as within:
        if batch.keyed and (replay := idempotency.stored_answer(caller.space_id, *batch.keyed)):
            return replay
        outcomes = []
        for index, loaded in enumerate(batch.operations):
            op = loaded.op if isinstance(loaded, Invalid) else loaded["op"]
            try:
                if isinstance(loaded, Invalid):
                    raise loaded.error
                with nullcontext() if batch.atomic else db.session.begin_nested():
                    outcomes.append(Outcome(op, apply(caller, loaded, batch.trash, within)))
            except OPERATION_ERRORS as error:
                if batch.atomic:
                    raise OperationFailed(index, op, error) from None
                outcomes.append(Outcome(op, error=error))
        answer = answer_for(outcomes)
        if batch.keyed:
            idempotency.remember(caller.space_id, *batch.keyed, answer)
    return answer
