"""A batch of task writes: checked one operation at a time, applied in order through the task
store, in one change (one number): all or nothing (atomic), or each on its own.

It knows no HTTP: a failed operation is an `OperationFailed` (atomic) or an outcome holding
the error (not atomic); the route turns errors into problems.
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
from ..tasks import store as tasks
from ..tasks.changes import Change, change
from .schemas import OperationSchema

# What fails one operation, not the request: its input, or the task it names.
OPERATION_ERRORS = (
    ValidationError,
    tasks.TaskNotFound,
    tasks.TaskChanged,
    tasks.TaskGone,
    tasks.IdConflict,
    tasks.ParentInTrash,
    TooManyLabels,
)
CHECK = OperationSchema()


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


def checked(operation: dict) -> dict:
    """An operation as loaded by its schema; ValidationError with the single routes'
    messages."""
    return CHECK.load(operation)


def apply(caller: Caller, operation: dict, trash: Trash, within: Change | None) -> Row | None:
    """Run one checked operation; the task it leaves (None for a delete)."""
    op, task_id = operation["op"], operation.get("id")
    versions = versions_in(operation.get("if_match"))
    if op == "create":
        return tasks.add_task(caller, operation["task"], within)[0]
    if op in ("patch", "replace"):
        values = operation["changes"] if op == "patch" else operation["task"]
        return tasks.write_task(caller, task_id, values, versions, within=within)
    if op == "complete":
        values = {"completed": operation["completed"]} if "completed" in operation else {}
        occurrence = operation.get("occurrence")
        return tasks.write_task(caller, task_id, values, versions, not values, within, occurrence)
    if op == "restore":
        return tasks.restore_task(caller, task_id, versions, trash.since, within)
    if operation.get("purge") or not trash.days:
        tasks.purge_task(caller, task_id, versions, within)
    else:
        tasks.trash_task(caller, task_id, versions, within)
    return None


def run(
    caller: Caller,
    operations: list[dict],
    atomic: bool,
    trash: Trash,
    keyed: tuple[str, str] | None,
    answer_for: Callable[[list[Outcome]], Answer],
) -> Answer:
    """Run a batch in one change (one number). Atomic: every operation or none
    (OperationFailed for the first that fails; every check before any write). Not atomic:
    each in a savepoint, so a failed one undoes only itself, and each outcome says how it
    went. `keyed`: (Idempotency-Key, request fingerprint): the answer is stored with the
    writes, and a retry gets it back; of concurrent retries, the first to commit stands and
    the others, their writes rolled back, answer as it did."""
    loaded: list[dict | ValidationError] = []
    for index, operation in enumerate(operations):
        try:
            loaded.append(checked(operation))
        except ValidationError as error:
            if atomic:
                raise OperationFailed(index, str(operation.get("op")), error) from None
            loaded.append(error)
    load_account(caller)  # a stored answer is replayed only to a token that is still current
    try:
        return apply_all(caller, operations, loaded, atomic, trash, keyed, answer_for)
    except IntegrityError:
        if keyed and (replay := idempotency.stored_answer(caller.user_id, *keyed)):
            return replay
        raise


def apply_all(caller, operations, loaded, atomic, trash, keyed, answer_for) -> Answer:
    """`run`'s change: the checked operations applied in order, and the answer stored."""
    with change(caller.user_id) as within:
        if keyed and (replay := idempotency.stored_answer(caller.user_id, *keyed)):
            return replay
        outcomes = []
        for index, (operation, load) in enumerate(zip(operations, loaded, strict=True)):
            op = str(operation.get("op"))
            try:
                if isinstance(load, ValidationError):
                    raise load
                with nullcontext() if atomic else db.session.begin_nested():
                    outcomes.append(Outcome(op, apply(caller, load, trash, within)))
            except OPERATION_ERRORS as error:
                if atomic:
                    raise OperationFailed(index, op, error) from None
                outcomes.append(Outcome(op, error=error))
        answer = answer_for(outcomes)
        if keyed:
            idempotency.remember(caller.user_id, *keyed, answer)
    return answer
