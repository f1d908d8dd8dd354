"""What every request and answer passes through: the body check, the request id, and the
security headers."""

import re
import uuid

from flask import Flask, g, request

from .errors import problem

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def assign_request_id():
    """The client's X-Request-ID if it is sane (so traces join up), else a new one."""
    sent = request.headers.get("X-Request-ID", "")
    g.request_id = sent if SANE_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex


def refuse_non_json_body():
    """A body that is not JSON is a 415, not a confusing 'field missing' 422."""
    if request.method in BODY_METHODS and has_body() and not request.is_json:
        return problem(415, "The request body must be JSON (Content-Type: application/json).")
    return None


def has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")


def label_response(response):
    response.headers["X-Request-ID"] = g.request_id
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def register_request_id(app: Flask) -> None:
    """First of all hooks: every later hook, answer and log line has the request id."""
    app.before_request(assign_request_id)
    app.after_request(label_response)


def register_body_check(app: Flask) -> None:
    app.before_request(refuse_non_json_body)
