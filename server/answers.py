"""The answers the server gives by itself, before or instead of the app: problem+json bodies in
the app's own shape (todo/errors.py), each on a connection that then closes."""

import json
from dataclasses import dataclass
from http import HTTPStatus

from gunicorn.http import errors as parse_errors

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

# gunicorn's refusals of a request it cannot parse: (status, reason); anything else it raises
# is a 400 "bad_request".
PARSE_ERROR_STATUS = (
    (parse_errors.LimitRequestLine, 414, "line_too_long"),
    (parse_errors.LimitRequestHeaders, 431, "headers_too_large"),
    (parse_errors.UnsupportedTransferCoding, 501, "unsupported_coding"),
    (parse_errors.ExpectationFailed, 417, "expectation_failed"),
    (parse_errors.ForbiddenProxyRequest, 403, "forbidden_proxy"),
)
CLIENT_ERRORS = (parse_errors.ParseException, parse_errors.NoMoreData)


@dataclass(frozen=True, slots=True)
class Refused:
    """A request the server answers itself with `status`, then closes the connection;
    `reason` names why in the access log and in /metrics (a word from a fixed set)."""

    status: int
    reason: str
    detail: str
    retry_after: int | None = None


def body_too_large(body_limit: int) -> Refused:
    return Refused(
        413, "body_too_large", f"The request body is larger than {body_limit // 1024} KiB."
    )


def problem(refused: Refused, request_id: str) -> bytes:
    """A whole HTTP/1.1 answer, `Connection: close`, as bytes ready to send."""
    status = refused.status
    phrase = HTTPStatus(status).phrase
    body = {"detail": refused.detail, "status": status, "title": phrase, "type": "about:blank"}
    payload = (json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    head = [
        f"HTTP/1.1 {status} {phrase}",
        "Content-Type: application/problem+json",
        f"Content-Length: {len(payload)}",
        "Connection: close",
        "X-Content-Type-Options: nosniff",
        f"X-Request-ID: {request_id}",
    ]
    if refused.retry_after is not None:
        head.append(f"Retry-After: {refused.retry_after}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload


def parse_error(error: Exception) -> Refused:
    """What to answer for what gunicorn's parser raised over a request's bytes, in its own
    words, which name what was wrong."""
    if isinstance(error, parse_errors.NoMoreData):
        return Refused(400, "bad_request", "The request ended before its body did.")
    for kind, status, reason in PARSE_ERROR_STATUS:
        if isinstance(error, kind):
            return Refused(status, reason, f"The request could not be parsed: {error}.")
    return Refused(400, "bad_request", f"The request could not be parsed: {error}.")
