"""What every request and answer passes through: the request id and the security headers."""

import re
from random import getrandbits

from flask import Flask, g, request

SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
NOSNIFF = ("X-Content-Type-Options", "nosniff")


def assign_request_id():
    """The client's X-Request-ID if it is sane (so traces join up), else a new one: 128
    random bits in hex, as long as a uuid4's `hex` without building a UUID. The bits come
    from `random` (reseeded in each forked worker), not the system's generator: an id names
    a request in traces and grants nothing, and a getrandom call per request is a system call
    that lets the GIL go to another thread and back. Read from the WSGI environ: werkzeug's
    headers raise (and build) an exception for a header that is absent, as this one mostly
    is."""
    sent = request.environ.get("HTTP_X_REQUEST_ID", "")
    context = g._get_current_object()
    context.request_id = sent if SANE_REQUEST_ID.fullmatch(sent) else f"{getrandbits(128):032x}"
    # The headers no view sets, which later hooks may add to (a request budget's fields).
    context.labels = [("X-Request-ID", context.request_id), NOSNIFF]


def canonical_bearer_scheme():
    """`bearer`, `BEARER`: the scheme is case-insensitive (RFC 9110 section 11.1), and
    clients build it from the login answer's `token_type: "bearer"`; flask-jwt-extended
    compares it as written."""
    sent = request.environ.get("HTTP_AUTHORIZATION")
    if sent and sent[:7].lower() == "bearer " and not sent.startswith("Bearer "):
        request.environ["HTTP_AUTHORIZATION"] = "Bearer " + sent[7:]


def label_response(response):
    """Headers no view sets (`g.labels`): added, not set (werkzeug's `set` first looks for
    the name among the answer's headers), straight onto werkzeug's list of them: its `extend`
    checks each value for a newline (a generator, a regular expression and two calls a
    header), where these are the app's own (the request id only as SANE_REQUEST_ID allows
    it, the rest written here and by todo/budgets.py)."""
    response.headers._list.extend(g.labels)
    if request.method == "OPTIONS" and not response.content_length:
        # Flask answers a preflight with an empty body it calls text/html; it has no type.
        del response.headers["Content-Type"]
    return response


def register_request_id(app: Flask) -> None:
    """First of all hooks: every later hook, answer and log line has the request id."""
    app.before_request(assign_request_id)
    app.before_request(canonical_bearer_scheme)
    app.after_request(label_response)
