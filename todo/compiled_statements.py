"""Statements compiled once and run alone on a pooled connection's DBAPI cursor (PostgreSQL).

SQLAlchemy Core spends, around each statement psycopg2 runs, about as much again in Python:
a compiled-cache lookup, an execution context, its parameter and result set-up, the
Connection and its Result (~20% of a task read's CPU, ~10% of a 20-task list's, py-spy).
A read of the app's is one SELECT of fixed shape, and a plain create or update one INSERT
or UPDATE … RETURNING (autocommit makes it its own transaction), so all of that can be done
once per statement: here its SQL, bind and result processors and row type are worked out
from SQLAlchemy's own compilation, then each run is a pool checkout, the engine's
`before_cursor_execute` listeners (the statement timeout; the tests' statement log), one
`cursor.execute` and the rows as named tuples (what the encoder and callers read: names and
positions). The pool's events run as for any checkout; a DBAPI error is raised as Core
raises it (sqlalchemy.exc: IntegrityError, OperationalError…), and a connection found dead
is invalidated with the rest of the pool, as Core does.

Statements this cannot run as they are compiled (expanding IN lists, tuple binds, escaped
or positional parameters, columns no named tuple can name, values Core computes per run
such as Python-side column defaults, writes that return nothing) are left to Core
(`compile_statement` gives None).
"""

import keyword
from collections import namedtuple
from functools import partial
from operator import itemgetter
from types import MappingProxyType

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

# What the engine's statement listeners are given as the execution context: a compiled
# statement's options are the defaults (todo/database.py: limit_statement_time reads them).
StatementContext = namedtuple("StatementContext", "execution_options executemany")
DEFAULTS = StatementContext(MappingProxyType({}), False)
# What no row's columns equal: the all-NULL check of a statement whose processors do not all
# give None for None.
NEVER = object()


class CompiledStatement:
    """One SELECT, or write with RETURNING, compiled for its engine's dialect:
    `run(engine, parameters)` gives its rows."""

    def __init__(self, compiled, columns: list[str], bind_processors: dict, literals: dict):
        self.sql = compiled.string
        self.result_types = [entry.type for entry in compiled._result_columns]
        self.literals = literals
        # Each bound name with its processor (None: the value goes as it is), each name the
        # SQL holds once: `compiled.binds` also holds an anonymous bind by its unrendered key.
        names = dict.fromkeys(compiled.bind_names.values())
        self.binds = tuple((name, bind_processors.get(name)) for name in names)
        self.row_type = namedtuple("Row", columns)
        # A row as its named tuple in one C call (`_make` is a Python frame per row); the
        # statement gives exactly the tuple's columns. With the all-NULL check in one C call
        # (below), 5% of a 100-task list's instructions (callgrind).
        self.make_row = partial(tuple.__new__, self.row_type)
        self.converters = None  # (position, processor) of the columns that need one: first run
        # The converted columns' values of a row (one C call), and what they are when all are
        # NULL: then, if every processor gives None for None (Core's and this app's types do),
        # the row is taken as it is (a task without a due time). Set with the converters.
        self.converted_columns, self.all_null = None, NEVER

    def run(self, engine: Engine, parameters: dict) -> list:
        """The statement's rows, run alone (`run_in_turn`)."""
        return run_in_turn(engine, [(self, parameters)])[0]

    def bound(self, parameters: dict) -> dict:
        """The values of the statement's binds, processed, from `parameters` and its literals."""
        literals, values = self.literals, {}
        for name, processor in self.binds:
            value = parameters[name] if name in parameters else literals[name]
            values[name] = value if processor is None else processor(value)
        return values

    def rows(self, fetched: list) -> list:
        make = self.make_row
        if not self.converters:
            return list(map(make, fetched))
        columns, all_null, convert = self.converted_columns, self.all_null, self.converted
        return [make(row) if columns(row) == all_null else make(convert(row)) for row in fetched]

    def converted(self, row) -> list:
        values = list(row)
        for position, convert in self.converters:
            values[position] = convert(values[position])
        return values

    def prepare_conversions(self, engine: Engine, description) -> None:
        processors = (
            type_._cached_result_processor(engine.dialect, column.type_code)
            for type_, column in zip(self.result_types, description, strict=True)
        )
        converters = [(at, processor) for at, processor in enumerate(processors) if processor]
        if converters:
            self.converted_columns = itemgetter(*(at for at, _ in converters))
            if all(convert(None) is None for _, convert in converters):
                # itemgetter gives one position's value alone, several's as a tuple
                self.all_null = None if len(converters) == 1 else (None,) * len(converters)
        self.converters = converters  # last: another thread may run as soon as it is set


def run_in_turn(engine: Engine, runs: list) -> list[list]:
    """The rows of each run of `runs` ((CompiledStatement, parameters) pairs), in turn, on one
    pooled connection: each run a statement of its own (autocommit; nothing carried from one
    to the next), with one checkout for them all (a pool checkout and checkin cost a 1-row
    read about as much as its `cursor.execute`: a member's empty poll reads one row per
    owner, and a member's read of a shared list asks their token first)."""
    if not runs:
        return []
    statement, values = runs[0][0], None
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        fetched = []
        for statement, parameters in runs:
            sql, values = statement.sql, statement.bound(parameters)
            for listener in engine.dispatch.before_cursor_execute:
                sql, values = listener(None, cursor, sql, values, DEFAULTS, False)
            cursor.execute(sql, values)
            fetched.append(cursor.fetchall())
            if statement.converters is None:
                statement.prepare_conversions(engine, cursor.description)
        cursor.close()
    except engine.dialect.loaded_dbapi.Error as error:
        gone = engine.dialect.is_disconnect(error, connection.dbapi_connection, None)
        if gone:
            engine.pool._invalidate(connection, error)  # as Connection does on disconnect
        raise DBAPIError.instance(
            statement.sql,
            values,
            error,
            engine.dialect.loaded_dbapi.Error,
            hide_parameters=engine.hide_parameters,
            connection_invalidated=gone,
            dialect=engine.dialect,
        ) from error
    finally:
        connection.close()  # back to the pool (or gone, if invalidated)
    return [statement.rows(rows) for (statement, _), rows in zip(runs, fetched, strict=True)]


def compile_statement(engine: Engine, statement) -> CompiledStatement | None:
    """`statement` compiled for `engine` as a CompiledStatement, or None if Core must run it."""
    compiled = statement.compile(dialect=engine.dialect)
    if (
        not (statement.is_select or (statement.is_dml and compiled._result_columns))
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.positional
        or compiled.escaped_bind_names
        or compiled.literal_execute_params
        or compiled.post_compile_params
    ):
        return None
    columns = [entry.keyname for entry in compiled._result_columns]
    if len(set(columns)) < len(columns) or not all(
        name.isidentifier() and not name.startswith("_") and not keyword.iskeyword(name)
        for name in columns
    ):
        return None
    bind_processors = compiled._bind_processors
    if any(not callable(processor) for processor in bind_processors.values()):
        return None  # a tuple's processors
    literals = {
        name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
    }
    return CompiledStatement(compiled, columns, bind_processors, literals)
