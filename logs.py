"""Logs as one JSON object per line on stderr, for every process of the service (gunicorn's
arbiter, its workers, `flask` commands): what log pipelines parse. Free of Flask, so the arbiter
can use it without importing the app.

Every request pays for its line, so it is made cheaply: orjson encodes it (the standard
library's encoder only for text orjson refuses, such as a lone surrogate), and log records
skip the thread and process fields that no line shows.
"""

import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import orjson

from settings import SettingError

# The fields of a request's line (todo/access_log.py), and `reason` on the answers the server
# gives itself (server/refusals.py): kept when a record carries them.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "request_id", "user_id")
LINE_FIELDS = (*REQUEST_FIELDS, "reason")
ACCESS_LOG = logging.getLogger("todo.access")


def timestamp(created: float) -> str:
    """A moment (seconds since the epoch) as every line shows it: UTC, to the millisecond."""
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
        + f".{int(created % 1 * 1000):03d}Z"
    )


def json_line(created: float, level: str, logger: str, message: str, fields: dict) -> str:
    """One line as every line of the service is written: a log record's (JSONFormatter) or
    a request's made without one (todo/access_log.py)."""
    line = {"time": timestamp(created), "level": level, "logger": logger, "message": message}
    line.update(fields)
    try:
        return orjson.dumps(line, default=str).decode()
    except orjson.JSONEncodeError:
        return json.dumps(line, default=str)


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = {key: getattr(record, key) for key in LINE_FIELDS if hasattr(record, key)}
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        level, message = record.levelname.lower(), record.getMessage()
        return json_line(record.created, level, record.name, message, fields)


def configure_logging(level: str) -> None:
    """Every logger of the process writes JSON lines to stderr, where gunicorn collects them."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # `flask run`'s server logs each request too, in its own format: the app's line is enough.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # The logging module's documented switches for fields a record need not gather (the
    # HOWTO's "Optimization"): no line shows threads, processes or the caller's file and line,
    # and finding the caller walks the stack for every record (the access log writes one per
    # request).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None


class BatchedLines(logging.StreamHandler):
    """Lines to stderr in batches: each written at most `seconds` after it was logged, a
    warning or worse at once, and every one by the time the process exits normally
    (logging's exit hook flushes handlers). What nginx's `access_log ... flush=1s` does.

    sys.stderr writes each line through (a system call under the handler's lock); a served
    read used ~20 us more of the worker's CPU that way than with this (bench/RESULTS.md).
    """

    def __init__(self, seconds: float):
        # A stream of its own on stderr's descriptor: sys.stderr flushes at every newline.
        stream = open(  # noqa: SIM115 (the handler keeps it; the process's exit flushes it)
            sys.stderr.fileno(),
            "w",
            buffering=1 << 16,
            encoding=sys.stderr.encoding,
            errors="backslashreplace",
            closefd=False,
        )
        super().__init__(stream)
        self.seconds = seconds

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + self.terminator)
            if record.levelno >= logging.WARNING:
                self.stream.flush()
        except Exception:
            self.handleError(record)

    def write(self, line: str) -> None:
        """A line made already (a request's: todo/access_log.py), written as emit writes."""
        try:
            with self.lock:
                self.stream.write(line + self.terminator)
        except Exception:  # as emit does: a line that cannot be written never fails a request
            self.handleError(logging.makeLogRecord({"msg": line}))

    def flush_every_period(self) -> None:
        while True:
            time.sleep(self.seconds)
            self.flush()


def batched_lines() -> BatchedLines | None:
    """The handler writing this process's lines, when it is a BatchedLines (`batch_lines`)."""
    handlers = logging.root.handlers
    return handlers[0] if len(handlers) == 1 and isinstance(handlers[0], BatchedLines) else None


# Paths whose rest is a credential (a calendar feed's secret: todo/portability): never logged.
SECRET_PATHS = ("/calendar/",)
REDACTED = "[secret]"


def redacted(path: str | None) -> str | None:
    """The path as it may be logged: a calendar feed's secret replaced."""
    for prefix in SECRET_PATHS:
        if path and prefix in path:
            return path[: path.index(prefix) + len(prefix)] + REDACTED
    return path


def write_request_line(message: str, fields: dict) -> None:
    """A request's line in the access log. In a gunicorn worker, whose lines go out in
    batches, the line is made here, as JSONFormatter would make it, and handed to that
    handler: a log record and the logging module's path through loggers and handlers cost a
    served request up to ~40 us more (bench/RESULTS.md). Elsewhere (`flask run`, the tests'
    caplog) it is logged as a record. A path holding a secret is logged without it."""
    path = fields.get("path")
    if path and "/calendar/" in path:
        fields["path"] = redacted(path)
        message = message.replace(path, fields["path"])
    batches = batched_lines()
    if batches is None:
        ACCESS_LOG.info(message, extra=fields)
    elif ACCESS_LOG.isEnabledFor(logging.INFO):
        batches.write(json_line(time.time(), "info", ACCESS_LOG.name, message, fields))


def batch_lines(seconds: float = 1.0) -> None:
    """The root logger's lines written by a BatchedLines, flushed by a thread of this
    process (call it in the process that serves: gunicorn's worker, after the fork)."""
    handler = BatchedLines(seconds)
    handler.setFormatter(JSONFormatter())
    logging.getLogger().handlers[:] = [handler]
    threading.Thread(target=handler.flush_every_period, name="log-flush", daemon=True).start()


@contextmanager
def exit_on_setting_error() -> Iterator[None]:
    """A setting the app cannot use stops the process with one JSON log line saying which,
    not a traceback (settings.py writes the line's words)."""
    try:
        yield
    except SettingError as error:
        record = logging.makeLogRecord(
            {"name": "settings", "levelno": logging.ERROR, "levelname": "ERROR", "msg": str(error)}
        )
        sys.stderr.write(JSONFormatter().format(record) + "\n")
        raise SystemExit(2) from None
