"""Column types and clocks every feature's tables use, portable across SQLite and PostgreSQL."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, String, TypeDecorator, cast


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """timestamptz on PostgreSQL; SQLite keeps no zone, so UTC goes in and comes back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and dialect.name == "sqlite":
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UUIDText(TypeDecorator):
    """A uuid column read as the text that answers carry. The statement casts it to text:
    psycopg2 would otherwise build a uuid.UUID for each one (~1 us), only for it to be
    printed back. SQLite stores 32 hex digits, which are given their dashes here."""

    impl = String
    cache_ok = True

    def column_expression(self, column):
        return cast(column, self)

    def process_result_value(self, value, dialect):
        if value is None or dialect.name == "postgresql":
            return value
        return str(uuid.UUID(value))
