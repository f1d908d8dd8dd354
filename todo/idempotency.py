"""Idempotency-Key on POST: the first answer is stored in the transaction that creates the task,
and every retry with the same key (and body) gets that answer back instead of a new task.

Concurrent first tries race to INSERT the (user_id, key) primary key: the loser's INSERT waits
for the winner's commit, conflicts, rolls back its whole transaction (its task included) and
replays the winner's answer.
"""

import hashlib
import json
import uuid
from datetime import timedelta

from flask import current_app, request
from flask_smorest import abort
from sqlalchemy import delete

from .blueprint import header_parameter
from .extensions import db
from .models import IdempotencyKey, utcnow

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255

HEADER = header_parameter(
    "Idempotency-Key",
    "Retries with this key (kept 24 h) get the first answer; another body is 409",
    minLength=1,
    maxLength=MAX_KEY_LENGTH,
)


def request_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        abort(400, message=f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.")
    return key


def fingerprint(fields: dict) -> str:
    """The same request, whatever its JSON spacing or key order, has the same fingerprint."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path} {canonical}".encode()).hexdigest()


def purge_expired() -> None:
    """Forget keys past their 24 hours; run on each keyed POST, so no cron is needed."""
    db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEEP_FOR)
    )


def stored_answer(user_id: uuid.UUID, key: str, request_hash: str):
    """The first answer given for this key, or None if the key is new; 409 for another body."""
    stored = db.session.get(IdempotencyKey, (user_id, key))
    if stored is None:
        return None
    if stored.request_hash != request_hash:
        abort(409, message="This Idempotency-Key was already used with another request body.")
    answer = current_app.json.response(stored.body)
    answer.status_code = stored.status
    answer.headers.update({**stored.headers, "Idempotent-Replayed": "true"})
    return answer


def remember(user_id: uuid.UUID, key: str, request_hash: str, status: int, body, headers) -> None:
    """Stage the answer; it is committed with the task, or not at all."""
    db.session.add(
        IdempotencyKey(
            user_id=user_id,
            key=key,
            request_hash=request_hash,
            status=status,
            headers=headers,
            body=body,
            created_at=utcnow(),
        )
    )
