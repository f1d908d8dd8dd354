"""The answers the server gives by itself, before or instead of the app: problem+json bodies in
the app's own shape (todo/errors.py), each on a connection that then closes."""

import json
from http import HTTPStatus

from gunicorn.http import errors as parse_errors

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

# gunicorn's refusals of a request it cannot parse, by status (anything else it raises is 400).
PARSE_ERROR_STATUS = (
    (parse_errors.LimitRequestLine, 414),
    (parse_errors.LimitRequestHeaders, 431),
    (parse_errors.UnsupportedTransferCoding, 501),
    (parse_errors.ExpectationFailed, 417),
    (parse_errors.ForbiddenProxyRequest, 403),
)
CLIENT_ERRORS = (parse_errors.ParseException, parse_errors.NoMoreData)


def problem(status: int, detail: str, retry_after: int | None = None) -> bytes:
    """A whole HTTP/1.1 answer, `Connection: close`, as bytes ready to send."""
    phrase = HTTPStatus(status).phrase
    body = {"detail": detail, "status": status, "title": phrase, "type": "about:blank"}
    payload = (json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    head = [
        f"HTTP/1.1 {status} {phrase}",
        "Content-Type: application/problem+json",
        f"Content-Length: {len(payload)}",
        "Connection: close",
        "X-Content-Type-Options: nosniff",
    ]
    if retry_after is not None:
        head.append(f"Retry-After: {retry_after}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload


def parse_error_status(error: Exception) -> int:
    """The status for what gunicorn's parser raised over a request's bytes."""
    for kind, status in PARSE_ERROR_STATUS:
        if isinstance(error, kind):
            return status
    return 400


def parse_error_detail(error: Exception) -> str:
    """gunicorn's own words, which name what was wrong; a body cut short has none."""
    if isinstance(error, parse_errors.NoMoreData):
        return "The request ended before its body did."
    return f"The request could not be parsed: {error}."
