"""Logs as one JSON object per line, and one line per request: what log pipelines parse.

The request line carries method, path (no query string: it may hold search text), status,
duration, request id and, once the token is checked, the user id. Never headers or bodies,
so no token or password can reach a log.
"""

import json
import logging
import sys
import time

from flask import Flask, g, request
from flask.logging import default_handler

log = logging.getLogger("todo.access")

REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "request_id", "user_id")


class JSONFormatter(logging.Formatter):
    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: getattr(record, key) for key in REQUEST_FIELDS if hasattr(record, key)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(level: str) -> None:
    """Every logger of the process writes JSON lines to stderr, where gunicorn collects them."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def start_clock():
    g.started = time.perf_counter()


def log_request(response):
    duration_ms = round((time.perf_counter() - g.started) * 1000, 2)
    log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "request_id": g.request_id,
            "user_id": g.get("user_id"),
        },
    )
    return response


def register_access_log(app: Flask) -> None:
    if not app.testing:  # tests read records through pytest's caplog instead
        configure_logging(app.config["LOG_LEVEL"])
        app.logger.removeHandler(default_handler)
    app.before_request(start_clock)
    app.after_request(log_request)
