"""One log line per request, in the JSON lines of logs.py: what log pipelines parse.

The line carries method, path (no query string: it may hold search text), status,
duration, request id and, once the token is checked, the user id. Never headers or bodies,
so no token or password can reach a log.

Every request pays for its line, so it is made cheaply (logs.py: write_request_line). The
answers the serving worker gives itself get lines of the same shape (server/refusals.py).
"""

import time

from flask import Flask, g, request
from flask.logging import default_handler

from logs import configure_logging, write_request_line

from .holding import held


def start_clock():
    g.started = time.perf_counter()


def log_request(response):
    this = request._get_current_object()  # read several times: the proxy looked up once
    if held(this):  # a waiting poll is logged once, by the run that answers it
        return response
    duration_ms = round((time.perf_counter() - g.started) * 1000, 2)
    method, path, status = this.method, this.path, response.status_code
    message = f"{method} {path} {status}"
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "request_id": g.request_id,
        "user_id": g.get("user_id"),
    }
    write_request_line(message, fields)
    return response


def register_access_log(app: Flask) -> None:
    if not app.testing:  # tests read records through pytest's caplog instead
        configure_logging(app.config["LOG_LEVEL"])
        app.logger.removeHandler(default_handler)
    app.before_request(start_clock)
    app.after_request(log_request)
