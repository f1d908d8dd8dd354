"""One log line per request, in the JSON lines of logs.py: what log pipelines parse.

The line carries method, path (no query string: it may hold search text), status,
duration, request id and, once the token is checked, the user id. Never headers or bodies,
so no token or password can reach a log.

Every request pays for its line, so it is made cheaply. In a gunicorn worker, whose lines go
out in batches (logs.py: BatchedLines), the line is made here, as JSONFormatter would make
it, and handed to that handler: a log record and the logging module's path through loggers
and handlers cost a served request up to ~40 us more (bench/RESULTS.md). Elsewhere
(`flask run`, the tests' caplog) it is logged as a record.
"""

import logging
import time

from flask import Flask, g, request
from flask.logging import default_handler

from logs import batched_lines, configure_logging, json_line

log = logging.getLogger("todo.access")


def start_clock():
    g.started = time.perf_counter()


def log_request(response):
    duration_ms = round((time.perf_counter() - g.started) * 1000, 2)
    method, path, status = request.method, request.path, response.status_code
    message = f"{method} {path} {status}"
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "request_id": g.request_id,
        "user_id": g.get("user_id"),
    }
    batches = batched_lines()
    if batches is None:
        log.info(message, extra=fields)
    elif log.isEnabledFor(logging.INFO):  # a gunicorn worker: the record's line, made directly
        batches.write(json_line(time.time(), "info", log.name, message, fields))
    return response


def register_access_log(app: Flask) -> None:
    if not app.testing:  # tests read records through pytest's caplog instead
        configure_logging(app.config["LOG_LEVEL"])
        app.logger.removeHandler(default_handler)
    app.before_request(start_clock)
    app.after_request(log_request)
