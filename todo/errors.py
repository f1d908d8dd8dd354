"""Every failure, from every layer, as an application/problem+json answer (RFC 9457)."""

import logging
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus

from flask import Flask, current_app
from flask_smorest import Api
from marshmallow import Schema, ValidationError, fields
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from .budgets import DEFAULT, Budget, OverBudget
from .openapi import error_response
from .throttles import Throttled

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"

INVALID_FIELDS = "The request has invalid fields."
INVALID_QUERY = "The query parameters are invalid."
# A body with thousands of unknown keys gets this many messages, not one per key.
MAX_FIELD_ERRORS = 20

# Sentences for statuses whose werkzeug description speaks of HTML forms or servers.
DETAILS = {
    400: "The request could not be understood.",
    404: "The requested resource was not found.",
    405: "The method is not allowed for this resource.",
    413: "The request body is larger than this route takes (64 KiB; a batch 1 MiB).",
    500: "An unexpected error occurred; it has been logged.",
}


# The example of each error status shared by the operations that give no example of their
# own (todo/blueprint.py: `problems`), as the API words it.
EXAMPLE_DETAILS = {
    400: "The request body is not valid JSON.",
    401: "A bearer token is required: Missing Authorization Header.",
    403: "The token does not belong to this user.",
    405: DETAILS[405],
    413: DETAILS[413],
    415: "The request body must be JSON (Content-Type: application/json).",
    422: INVALID_FIELDS,
    429: str(OverBudget(Budget(DEFAULT, 3000, 900), 512)),
    503: "The database is unavailable; try again shortly.",
}
EXAMPLE_ERRORS = {422: {"errors": {"title": ["Length must be between 1 and 500."]}}}


class ProblemSchema(Schema):
    """RFC 9457 problem details: every error answer has this shape."""

    class Meta:
        name = "Problem"

    type = fields.String(required=True, metadata={"example": "about:blank"})
    title = fields.String(required=True, metadata={"example": "Not Found"})
    status = fields.Integer(required=True, metadata={"example": 404})
    detail = fields.String(required=True, metadata={"example": "Task not found"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": "Messages by field or query parameter, for invalid input (400, 422); "
            "at most 20 fields"
        },
    )
    index = fields.Integer(
        metadata={"description": "Of a failed batch (/problems/batch-failed): which operation"}
    )
    where = fields.String(
        metadata={
            "description": "Of a file an import cannot read (/problems/import-invalid): where "
            "it breaks"
        }
    )
    problems = fields.List(
        fields.Dict(),
        metadata={
            "description": "Of an import refused (/problems/import-rejected): the file's "
            "problems, each {where, field, message}; at most 1,000"
        },
    )


def problem_body(status: int, detail: str | None = None, **extra) -> dict:
    """A problem's members; `extra` adds members such as `errors`, or sets `type`."""
    return {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or DETAILS.get(status) or HTTP_STATUS_CODES.get(status, "Error"),
        **extra,
    }


def example(summary: str, value) -> dict:
    """An OpenAPI example: what it shows, and its value."""
    return {"summary": summary, "value": value}


def problem_example(status: int, detail: str, summary: str | None = None, **members) -> dict:
    """An example of a problem, worded as the API sends it (`problem_body`)."""
    return example(summary or detail, problem_body(status, detail, **members))


def invalid_example(summary: str, errors: dict, detail: str = INVALID_FIELDS, **members) -> dict:
    """An example of a 422 (or a query's 400): the messages by field."""
    status = 400 if detail == INVALID_QUERY else 422
    return example(summary, problem_body(status, detail, errors=errors, **members))


def problem(status: int, detail: str | None = None, headers=None, **extra):
    """A problem+json response; `extra` adds members such as `errors`, or sets `type`."""
    return problem_answer(problem_body(status, detail, **extra), headers)


def problem_answer(body: dict, headers=None):
    """A problem+json response of a problem's members (`problem_body`)."""
    return current_app.response_class(
        current_app.json.dumps(body) + "\n",
        status=body["status"],
        headers=headers,
        mimetype=PROBLEM_MIMETYPE,
    )


def field_errors(messages: dict) -> dict:
    """webargs nests messages by location ({"json": {...}}); clients want them by field, a
    nested one by its path (`due.timezone`)."""
    return {
        path: errors for by_field in messages.values() for path, errors in by_path(by_field).items()
    }


def by_path(messages: dict, prefix: str = "") -> dict:
    """Messages by the path of each field (`task.title`), as the problem's `errors` are
    documented: a list of messages per field."""
    flat = {}
    for name, value in messages.items():
        if isinstance(value, dict):
            flat.update(by_path(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def invalid_fields(status: int, messages: dict, headers):
    """The problem for invalid fields or parameters: a message list per field, for the first
    MAX_FIELD_ERRORS fields (the detail says how many there were)."""
    detail = INVALID_QUERY if "query" in messages else INVALID_FIELDS
    return problem(status, headers=headers, **capped(detail, field_errors(messages)))


def capped(detail: str, errors: dict) -> dict:
    """A problem's `detail` and `errors` for these messages by field: the first
    MAX_FIELD_ERRORS fields, and the detail says how many there were."""
    if len(errors) > MAX_FIELD_ERRORS:
        detail = f"{detail[:-1]}: {len(errors)} of them; the first {MAX_FIELD_ERRORS} are listed."
        errors = dict(list(errors.items())[:MAX_FIELD_ERRORS])
    return {"detail": detail, "errors": errors}


class ProblemApi(Api):
    """flask-smorest's Api, answering its errors (and Flask's) as problem+json."""

    ERROR_SCHEMA = ProblemSchema
    # Each view lists the errors it can give (`problems`); no catch-all "default".
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self):
        """Document every error status as a problem+json body, as it is sent."""
        for status in HTTPStatus:
            if status >= 400:
                detail = EXAMPLE_DETAILS.get(status, status.description)
                example = problem_body(status, detail, **EXAMPLE_ERRORS.get(status, {}))
                response = error_response(status, self.ERROR_SCHEMA, example)
                self.spec.components.response(status.name, response, lazy=True)

    def handle_http_exception(self, error: HTTPException):
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        data = getattr(error, "data", None) or {}
        messages = data.get("messages")
        if isinstance(error, InternalServerError):
            return problem(500)
        if messages:
            return invalid_fields(error.code, messages, headers)
        detail = data.get("message")
        if detail is None and error.code not in DETAILS:
            detail = error.description
        return problem(error.code, detail, headers)


@dataclass(frozen=True)
class DomainProblem:
    """How a domain error is answered: its status, and a problem type of its own if clients
    should tell it from others of that status."""

    status: int
    type: str = "about:blank"

    def body(self, error: Exception, **extra) -> dict:
        return problem_body(self.status, str(error), type=self.type, **extra)


TOO_MANY = DomainProblem(429)


def problem_of(error: Exception) -> tuple[int, dict] | None:
    """The status and problem a domain error (or invalid input) is answered with; None for
    an error that is not one (a fault)."""
    if isinstance(error, ValidationError):
        return 422, problem_body(422, **capped(INVALID_FIELDS, by_path(error.messages)))
    problems = current_app.extensions["domain_problems"]
    answer = next((problems[kind] for kind in type(error).__mro__ if kind in problems), None)
    return None if answer is None else (answer.status, answer.body(error))


def register_problems(app: Flask, problems: dict[type[Exception], DomainProblem]) -> None:
    """Answer each of these domain errors (raised by the stores, which know no HTTP) as its
    problem, with its message as the detail. Kept in app.extensions for views that answer
    several errors in one body (a batch)."""
    app.extensions["domain_problems"] = problems
    for error_class, answer in problems.items():
        headers = {"WWW-Authenticate": "Bearer"} if answer.status == 401 else None
        app.register_error_handler(error_class, partial(domain_problem, answer, headers))


def domain_problem(answer: DomainProblem, headers, error: Exception):
    """Its problem; with Retry-After when the error says how long to wait."""
    if hasattr(error, "retry_after"):
        headers = {**(headers or {}), "Retry-After": str(error.retry_after)}
    return problem(answer.status, str(error), headers, type=answer.type)


def too_many(error: Throttled | OverBudget):
    """A 429 with its Retry-After, as any domain error that says how long to wait."""
    return domain_problem(TOO_MANY, None, error)


def invalid_value(error: ValidationError):
    """Input found invalid past its schema (a due date merged onto the stored one): 422, as
    the schema's own errors are."""
    return invalid_fields(422, {"json": error.normalized_messages()}, None)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(Throttled, too_many)
    app.register_error_handler(OverBudget, too_many)
    app.register_error_handler(ValidationError, invalid_value)
