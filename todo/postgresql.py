"""How the app's PostgreSQL connections behave: each statement sent as itself and bounded by the
server's statement_timeout, every wait for the server bounded on our side too, and result
names decoded in C.

The bound on a statement's run time is the server's: a default of the app's role (or its
database) that the operator sets once (docs/deploying.md), and that the app reads when it
first connects, warning when none is in force. It used to travel with each statement, as
`SET LOCAL statement_timeout = …; <statement>` in one message; but a message of two commands
is an implicit transaction block, which Citus forwards to a worker as three messages, and
whose text Citus refuses to forward at all for DDL (`cannot insert multiple commands into a
prepared statement`), so later migrations could not run on a distributed schema. Measured in
bench/RESULTS.md. What needs another bound (the readiness probe, the migrations, copying
tables into Citus) sets it with `SET LOCAL`, as a statement of its own, inside its
transaction.
"""

import codecs
import logging
import select
import time
import uuid
from contextlib import contextmanager

import psycopg2
from psycopg2 import extensions as psycopg2_extensions
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

# The server's statement_timeout in force for a new session of ours, in milliseconds.
STATEMENT_TIMEOUT = "SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout'"


def warn_without_statement_bound(engine: Engine, seconds: float) -> None:
    """On the engine's first connection, read the statement_timeout the server gives our
    sessions (the role's or the database's default) and warn once if it is none, or longer
    than DB_STATEMENT_TIMEOUT: a slow statement would then hold its connection and the
    request's thread until the client side gives up (`BoundedConnection`), and run on in
    the server after that."""

    @event.listens_for(engine, "first_connect")
    def read_statement_bound(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute(STATEMENT_TIMEOUT)
        in_force_ms = cursor.fetchone()[0]
        cursor.close()
        if not dbapi_connection.autocommit:
            dbapi_connection.rollback()  # the read began a transaction; end it here
        if in_force_ms and in_force_ms <= seconds * 1000:
            return
        found = "none" if not in_force_ms else f"{in_force_ms} ms"
        log.warning(
            "PostgreSQL's statement_timeout for this app is %s, not DB_STATEMENT_TIMEOUT "
            "(%g s): set it once with ALTER ROLE <the app's role> SET statement_timeout = "
            "'%gs' (docs/deploying.md)",
            found,
            seconds,
            seconds,
        )


def bound_statements(connection: Connection, milliseconds: int) -> None:
    """The statements after this one in `connection`'s transaction may run `milliseconds`
    (0: as long as they take), on PostgreSQL: a statement of its own, which ends with the
    transaction (so a pooler in transaction mode hands no session state on)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SET LOCAL statement_timeout = {int(milliseconds)}"))


class BoundedConnection(psycopg2_extensions.connection):
    """A psycopg2 connection that waits for its server a bounded time: at most `connect_bound`
    seconds to connect, then `answer_bound` for each answer (None: no bound).

    libpq bounds neither once a TCP connection is up: a frozen server, or a path that accepts
    and forwards nothing (a hung proxy or NAT), would hold the request, and its thread, until
    the path came back. The server's own statement timeout answers well within
    `answer_bound`, so a connection that does not is given up for dead. Subclassed per app
    with its bounds (`bound_waits`); `unbounded_answers` lifts the answer bound for work that
    may take longer (migrations).
    """

    connect_bound = answer_bound = None

    def __init__(self, *args, **kwargs):
        self.bound = self.connect_bound
        super().__init__(*args, **kwargs)  # connects, through wait_within_bound
        self.bound = self.answer_bound


@contextmanager
def unbounded_answers(connection: Connection):
    """Within the block, `connection` waits for each answer as long as it takes: for work that
    may run longer than a request's statements (a migration's, copying a table)."""
    dbapi_connection = connection.connection.dbapi_connection
    if not isinstance(dbapi_connection, BoundedConnection):
        yield
        return
    dbapi_connection.bound = None
    try:
        yield
    finally:
        dbapi_connection.bound = dbapi_connection.answer_bound


def wait_within_bound(connection) -> None:
    """psycopg2's wait callback (psycopg2.extensions.set_wait_callback): wait for the socket
    as psycopg2.extras.wait_select does, within the connection's bound. When this raises,
    psycopg2 closes the connection, and SQLAlchemy, seeing it closed, replaces the pool's
    connections."""
    bound = getattr(connection, "bound", None)
    deadline = None if bound is None else time.monotonic() + bound
    while True:
        state = connection.poll()
        if state == psycopg2_extensions.POLL_OK:
            return
        remaining = None if deadline is None else max(deadline - time.monotonic(), 0)
        descriptor = [connection.fileno()]
        if state == psycopg2_extensions.POLL_READ:
            ready = select.select(descriptor, [], [], remaining)[0]
        else:
            ready = select.select([], descriptor, [], remaining)[1]
        if not ready:
            raise psycopg2.OperationalError(
                f"the database did not answer within {bound:g} s; the connection was closed"
            )


def bound_waits(engine_options: dict, connect_bound: float, answer_bound: float) -> None:
    """Make the engine's psycopg2 connections BoundedConnections with these bounds. The wait
    callback is process-wide in psycopg2; connections of other factories wait unbounded."""
    bounds = {"connect_bound": connect_bound, "answer_bound": answer_bound}
    factory = type("AppBoundedConnection", (BoundedConnection,), bounds)
    engine_options.setdefault("connect_args", {})["connection_factory"] = factory
    psycopg2_extensions.set_wait_callback(wait_within_bound)


# The codec psycopg2 is told to use for PostgreSQL's UTF8 (`decode_names_in_c`).
C_UTF8 = "todo_c_utf_8"


def find_c_utf8(name: str) -> codecs.CodecInfo | None:
    """A codec search function (codecs.register): C_UTF8 is UTF-8 through the standard
    codec's own C functions, which encodings/utf_8.py wraps in Python ones."""
    if name != C_UTF8:
        return None
    return codecs.CodecInfo(codecs.utf_8_encode, codecs.utf_8_decode, name=C_UTF8)


def decode_names_in_c() -> None:
    """psycopg2 decodes a result's column names (and its status and error texts; values take
    a C path) through the Python codec psycopg2.extensions.encodings names for the
    connection's encoding. For UTF8 that is "utf_8", whose decode is a Python function around
    codecs.utf_8_decode: a Python call per column of every result (a task read's 30 columns:
    ~20k instructions, 1.4% of its in-process instructions, callgrind). The map, psycopg2's
    documented one, names C_UTF8 instead: the same C function, called directly. Its `final`
    stays False: a text cut inside a character would lose the cut bytes rather than end in
    U+FFFD; PostgreSQL cuts names whole."""
    if psycopg2_extensions.encodings["UTF8"] != C_UTF8:
        codecs.register(find_c_utf8)
        for name in ("UTF8", "UNICODE"):  # PostgreSQL's name and its old alias
            psycopg2_extensions.encodings[name] = C_UTF8


# The adapted uuids by their number, up to QUOTED_UUIDS_KEPT (then forgotten all at once).
quoted_uuids: dict[int, psycopg2_extensions.AsIs] = {}
QUOTED_UUIDS_KEPT = 10_000


def quoted_uuid(value: uuid.UUID) -> psycopg2_extensions.AsIs:
    """`value` as psycopg2 writes it into a statement, `'…'::uuid`, as its own adapter
    (psycopg2.extras.UUID_adapter) writes it, made once per uuid: that adapter runs a Python
    object, two methods and uuid's own __str__ per parameter and run (~10k instructions; a
    write binds three uuids, the owner, the task and the actor). A request's uuids are mostly
    its caller's and their tasks', read again and again."""
    quoted = quoted_uuids.get(value.int)
    if quoted is None:
        if len(quoted_uuids) >= QUOTED_UUIDS_KEPT:
            quoted_uuids.clear()
        quoted = quoted_uuids[value.int] = psycopg2_extensions.AsIs(f"'{value}'::uuid")
    return quoted


def quote_uuids_once(engine: Engine) -> None:
    """Adapt uuid parameters with `quoted_uuid`. SQLAlchemy's psycopg2 dialect registers
    psycopg2's own adapter (process-wide) as each connection opens; this listener runs after
    it and registers ours again."""

    @event.listens_for(engine, "connect")
    def register_quoted_uuid(_dbapi_connection, _record):
        psycopg2_extensions.register_adapter(uuid.UUID, quoted_uuid)
