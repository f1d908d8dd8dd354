"""Column types and clocks every feature's tables use, portable across SQLite and PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, TypeDecorator, cast
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import Cast, ColumnClause, Label, TypeCoerce
from sqlalchemy.sql.functions import FunctionElement


def utcnow() -> datetime:
    return datetime.now(UTC)


def kept_since(days: int) -> datetime:
    """The oldest deletion time still in a trash that keeps tasks `days` days."""
    return utcnow() - timedelta(days=days)


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


class answer_time(FunctionElement):
    """A stored timestamp (its one argument) as answers give it, made by the database in the
    statement that reads it: RFC 3339 in UTC with microseconds and a Z (fields.utc_text).

    Read as a datetime instead, each value is built by psycopg2, moved to UTC by UTCDateTime
    and printed by utc_text, three Python-level steps per timestamp (~8% of a 20-task list's
    CPU, py-spy); as text it is read as it is. Only for reads whose timestamps go straight
    into an answer."""

    type = String()
    name = "answer_time"
    inherit_cache = True


@compiles(answer_time)  # PostgreSQL, and printed statements
def answer_time_by_to_char(element, compiler, **kw):
    stored = compiler.process(element.clauses, **kw)
    return f"""to_char({stored} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


@compiles(answer_time, "sqlite")
def answer_time_on_sqlite(element, compiler, **kw):
    """SQLite keeps the UTC wall clock as text; `answer_time` is the app's own function
    (todo/database.py)."""
    return f"answer_time({compiler.process(element.clauses, **kw)})"


class text_position(FunctionElement):
    """Where the text of its second argument first starts in its first (from 1), or 0 if
    nowhere: `strpos` on PostgreSQL, `instr` on SQLite, which share no name for it."""

    type = Integer()
    name = "text_position"
    inherit_cache = True


@compiles(text_position)  # PostgreSQL, and printed statements
def text_position_by_strpos(element, compiler, **kw):
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(text_position, "sqlite")
def text_position_by_instr(element, compiler, **kw):
    return f"instr({compiler.process(element.clauses, **kw)})"


class ReadAsText(TypeDecorator):
    """A column the statement casts to text, to be read as the text it prints. Each subclass
    says `cache_ok` again: SQLAlchemy reads it from the class's own namespace, not inherited."""

    impl = String
    cache_ok = True

    def column_expression(self, column):
        return cast(column, self)


@compiles(Cast, "postgresql")
def cast_on_postgresql(element, compiler, **kw):
    """A ReadAsText column as `x::text`: the same text as `CAST(x AS VARCHAR)`, 11 characters
    shorter, and psycopg2 copies every character of a statement on every run (~23
    instructions each, callgrind); a task read casts 9 columns. Other casts as SQLAlchemy
    writes them."""
    if not isinstance(element.type, ReadAsText):
        return compiler.visit_cast(element, **kw)
    read, written = compiler.process(element.clause, **kw), element.clause
    while isinstance(written, Label | TypeCoerce):  # what the row's columns are written as
        written = written.element if isinstance(written, Label) else written.typed_expression
    if not isinstance(written, ColumnClause | FunctionElement):
        read = f"({read})"  # `::` binds tighter than any operator
    return f"{read}::text"


class UUIDText(ReadAsText):
    """A uuid column read as the text that answers carry. The statement casts it to text:
    psycopg2 would otherwise build a uuid.UUID for each one (~1 us), only for it to be
    printed back. SQLite stores 32 hex digits, which are given their dashes here."""

    cache_ok = True

    def result_processor(self, dialect, coltype):
        """None on PostgreSQL, whose text is the answer's as it comes: no call per value
        (a 20-task list reads 80 of them)."""
        if dialect.name == "postgresql":
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value, dialect):
        return None if value is None else str(uuid.UUID(value))


class JSONText(ReadAsText):
    """A JSON column read as its text, which the answer's encoder parses in one C call
    (serializer.StoredList): psycopg2 parses each JSON value through a Python function of
    its own, two of them for every task of a page."""

    cache_ok = True


class Tombstone:
    """What is kept of a row purged for good (a task, a list), keyed as the row was: its id,
    the change number of its purge and when it was deleted, for the change feed."""

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    change_number: Mapped[int] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime] = mapped_column(UTCDateTime)
