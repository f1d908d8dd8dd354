"""What every request and answer passes through: the request id and the security headers."""

import re
import uuid

from flask import Flask, g, request

SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def assign_request_id():
    """The client's X-Request-ID if it is sane (so traces join up), else a new one."""
    sent = request.headers.get("X-Request-ID", "")
    g.request_id = sent if SANE_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex


def label_response(response):
    response.headers["X-Request-ID"] = g.request_id
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def register_request_id(app: Flask) -> None:
    """First of all hooks: every later hook, answer and log line has the request id."""
    app.before_request(assign_request_id)
    app.after_request(label_response)
