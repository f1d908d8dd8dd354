"""Checks every request passes before a view sees it."""

from flask import Flask, request

from .errors import problem

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def refuse_non_json_body():
    """A body that is not JSON is a 415, not a confusing 'field missing' 422."""
    if request.method in BODY_METHODS and has_body() and not request.is_json:
        return problem(415, "The request body must be JSON (Content-Type: application/json).")
    return None


def has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")


def register_request_checks(app: Flask) -> None:
    app.before_request(refuse_non_json_body)
