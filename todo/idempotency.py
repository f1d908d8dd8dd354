"""Idempotency-Key on POST: the first answer is stored in the transaction that makes what the
request creates, and every retry with the same key (and body) gets that answer back instead.
Keys are kept 24 hours, per user."""

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, Index, String, and_, delete
from sqlalchemy.orm import Mapped, mapped_column

from .blueprint import header_parameter
from .columns import UTCDateTime, utcnow
from .extensions import db

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255

HEADER = header_parameter(
    "Idempotency-Key",
    "Retries with this key (kept 24 h) get the first answer; another body is 409",
    minLength=1,
    maxLength=MAX_KEY_LENGTH,
)


class IdempotencyKey(db.Model):
    """The first answer to a POST sent with an Idempotency-Key, replayed to its retries."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    headers: Mapped[dict] = mapped_column(JSON)
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InvalidKey(Exception):
    def __init__(self):
        super().__init__(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.")


class KeyReused(Exception):
    def __init__(self):
        super().__init__("This Idempotency-Key was already used with another request body.")


@dataclass(frozen=True)
class Answer:
    """An answer to a keyed request, as stored and replayed."""

    status: int
    headers: dict
    body: object
    replayed: bool = field(default=False)


def checked_key(key: str | None) -> str | None:
    """The Idempotency-Key header's value, if sent; InvalidKey if it cannot be one."""
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidKey()
    return key


def fingerprint(method: str, path: str, fields: dict) -> str:
    """The same request, whatever its JSON spacing or key order, has the same fingerprint."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()


def purge_expired(user_id: uuid.UUID | None) -> int:
    """Forget keys past their 24 hours: this user's, on each keyed POST (one shard, so no cron
    is needed), or every user's (None: `flask todo purge`, for users who never send another).
    The number forgotten."""
    expired = IdempotencyKey.created_at < utcnow() - KEEP_FOR
    if user_id is not None:
        expired = and_(IdempotencyKey.user_id == user_id, expired)
    return db.session.execute(delete(IdempotencyKey).where(expired)).rowcount


def stored_answer(user_id: uuid.UUID, key: str, request_hash: str) -> Answer | None:
    """The first answer given for this key within 24 h, or None if the key is new (or
    expired); KeyReused for another body."""
    stored = db.session.get(IdempotencyKey, (user_id, key))
    if stored is None or stored.created_at < utcnow() - KEEP_FOR:
        return None
    if stored.request_hash != request_hash:
        raise KeyReused()
    return Answer(stored.status, stored.headers, stored.body, replayed=True)


def remember(user_id: uuid.UUID, key: str, request_hash: str, answer: Answer) -> None:
    """Stage the answer; it is committed with what the request made, or not at all."""
    db.session.add(
        IdempotencyKey(
            user_id=user_id,
            key=key,
            request_hash=request_hash,
            status=answer.status,
            headers=answer.headers,
            body=answer.body,
            created_at=utcnow(),
        )
    )
