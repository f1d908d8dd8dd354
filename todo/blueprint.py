"""The flask-smorest Blueprint every resource uses: a strict JSON body parser, documented
problems."""

import uuid
from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from urllib.parse import urlencode

import flask_smorest
from flask import Response, current_app, request
from marshmallow import Schema
from marshmallow.fields import List
from webargs import core, flaskparser
from werkzeug.routing import BaseConverter

from .columns import kept_since
from .errors import INVALID_QUERY, PROBLEM_MIMETYPE, ProblemSchema, invalid_example
from .openapi import HEADER_PARAMETERS, RETRY_AFTER, operation_id

NOT_JSON = "The request body must be JSON (Content-Type: application/json)."
BODY_NEEDED = "This request needs a JSON body."


class JSONParser(flaskparser.FlaskParser):
    """webargs' parser, with a clear answer for every body it cannot use: 415 for a body that
    is not JSON, 413 for one over the limit (also when sent chunked), 400 for JSON that does
    not decode (bad syntax, numbers too long, nesting too deep) and for repeated query
    parameters."""

    def _raw_load_json(self, req):
        if not flaskparser.is_json_request(req):
            if req.content_length or "chunked" in req.headers.get("Transfer-Encoding", ""):
                flaskparser.abort(415, message=NOT_JSON)
            return core.missing
        data = req.get_data(cache=True)
        if req.content_length is None and len(data) >= req.max_content_length:
            req.stream.read(1)  # a chunked body cut at the limit: werkzeug answers 413 if more
        if not data.strip():  # declared JSON, sent empty: what generated clients and Swagger
            return core.missing  # UI send for an optional body left out
        try:
            return core.parse_json(data)
        except RecursionError:
            flaskparser.abort(400, message="The JSON body is nested too deeply.")
        except ValueError:  # bad syntax or encoding, or an integer too long to convert
            flaskparser.abort(400, message="The request body is not valid JSON.")

    def parse(self, argmap, req=None, *, location=None, **kwargs):
        """An empty query string loads the same every time: its schema's defaults. It is
        loaded once per schema and each request gets a copy, without webargs' and
        marshmallow's per-field work (~4% of a 20-task list's CPU, py-spy). Only when every
        default is a constant and the load gives plain values (a copy of the dict is then
        as good as a new load)."""
        if location != "query" or not isinstance(argmap, Schema) or (req or request).query_string:
            return super().parse(argmap, req, location=location, **kwargs)
        loaded = argmap.__dict__.get("_empty_query")
        if loaded is None:
            loaded = super().parse(argmap, req, location=location, **kwargs)
            if not constant_defaults(argmap) or not all(
                type(value) in PLAIN_VALUES for value in loaded.values()
            ):
                return loaded
            argmap.__dict__["_empty_query"] = loaded
        return dict(loaded)

    def load_querystring(self, req, schema):
        """A parameter given twice is a mistake (which one counts?), unless it is a list."""
        repeated = sorted(
            key
            for key in req.args
            if len(req.args.getlist(key)) > 1 and not isinstance(schema.fields.get(key), List)
        )
        if repeated:
            flaskparser.abort(
                400,
                messages={"query": {key: ["Give this parameter once."] for key in repeated}},
            )
        return self._makeproxy(req.args, schema)


PLAIN_VALUES = {str, int, float, bool, type(None)}


def constant_defaults(schema: Schema) -> bool:
    return not any(callable(field.load_default) for field in schema.fields.values())


def header_parameter(name: str, description: str, **schema) -> dict:
    """An optional request header, as an OpenAPI parameter."""
    return {
        "in": "header",
        "name": name,
        "required": False,
        "schema": {"type": "string", **schema},
        "description": description,
    }


class UserIdConverter(BaseConverter):
    """The user id in a URL: a UUID, or any other segment kept as text. A URL whose user is
    not a UUID (a client's `/api/undefined/tasks`) is still a URL of somebody else's, so it
    is answered as one (401 without a valid token, else 403), not as an unknown route."""

    def to_python(self, value):
        try:
            return uuid.UUID(value)
        except ValueError:
            return value

    def to_url(self, value):
        return str(value)


def user_id_schema(_converter) -> dict:
    """How the OpenAPI document shows a user id in a path: a UUID, as clients should send."""
    return {"type": "string", "format": "uuid"}


def public_view(view):
    """A view that needs no token (todo/accounts/routes.py's `require_token` lets it through)."""

    @wraps(view)
    def open_to_anyone(*args, **kwargs):
        return view(*args, **kwargs)

    open_to_anyone.is_public = True
    return open_to_anyone


def require_body(parse_and_view):
    """Refuse a request without a body where the operation's body is required (400)."""

    @wraps(parse_and_view)
    def checked(*args, **kwargs):
        if not request.get_data(cache=True).strip():
            flaskparser.abort(400, message=BODY_NEEDED)
        return parse_and_view(*args, **kwargs)

    return checked


def documenting(decorator: Callable) -> Callable:
    """A flask-smorest decorator that only documents (`doc`, `alt_response`), with no call
    of its own around the view: the documentation it leaves on its wrapper is given to the
    view, which is registered as it is. Each wrapper is a frame and a `current_app` lookup
    per request, and a task read went through seven."""

    def decorate(view):
        view._apidoc = decorator(view)._apidoc
        return view

    return decorate


# What every route with a query answers a parameter it does not take.
UNKNOWN_PARAMETER = {
    400: {
        "unknownParameter": invalid_example(
            "A query parameter this route does not take",
            {"colour": ["Unknown field."]},
            INVALID_QUERY,
        )
    }
}


class Blueprint(flask_smorest.Blueprint):
    """Give `arguments` schema instances, not classes: webargs instantiates a class anew for
    every request it parses (~30 us). A JSON body documented as required is required.
    Documentation adds no call to a request (`documenting`). `problem_examples`: the examples
    of the resource's own problems, by status (a task route's 404 is "Task not found")."""

    ARGUMENTS_PARSER = JSONParser()

    def __init__(self, *args, problem_examples: dict[int, dict] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.problem_examples = problem_examples or {}

    @staticmethod
    def doc(**kwargs):
        return documenting(flask_smorest.Blueprint.doc(**kwargs))

    def alt_response(self, status_code, **kwargs):
        return documenting(super().alt_response(status_code, **kwargs))

    def route(self, rule, *, parameters=None, **options):
        """Each view's operationId is its name in camelCase (`list_tasks` -> `listTasks`)."""
        register = super().route(rule, parameters=parameters, **options)
        return lambda view: register(self.doc(operationId=operation_id(view.__name__))(view))

    def headers(self, *parameters: dict):
        """Document the request headers a view reads (`header_parameter`s), beside whatever
        parameters its `arguments` document."""
        return self.doc(**{HEADER_PARAMETERS: list(parameters)})

    def public(self, view):
        """Mark a view public: it needs no token (every other view does: todo/accounts/routes.py's
        `require_token`), and the document says so."""
        return public_view(self.doc(security=[])(view))

    def arguments(self, schema, *, location="json", required=True, **kwargs):
        decorate = super().arguments(schema, location=location, required=required, **kwargs)
        if location == "query":  # its 400: the query's problem, not a body's
            return lambda view: self.problems(examples=UNKNOWN_PARAMETER)(decorate(view))
        if location != "json" or not required:
            return decorate
        return lambda view: require_body(decorate(view))

    def problems(self, *statuses: int, examples: dict[int, dict] | None = None):
        """Document the error answers a view can give, beside the 422 flask-smorest adds for
        a body: each with this view's `examples` of it (by status, then by name), else the
        blueprint's, else the status's own (a shared component)."""
        own = {**self.problem_examples, **(examples or {})}

        def decorate(view):
            for status in sorted({*statuses, *(examples or {})}):
                if status not in own:
                    view = self.alt_response(status, response=HTTPStatus(status).name)(view)
                    continue
                headers = {"Retry-After": RETRY_AFTER} if status in (429, 503) else None
                documented = {"schema": ProblemSchema, "content_type": PROBLEM_MIMETYPE}
                view = self.alt_response(
                    status, **documented, examples=own[status], headers=headers
                )(view)
            return view

        return decorate


NEXT_LINK_HEADER = {
    "Link": {
        "description": 'The next page, as <url>; rel="next", while more pages remain',
        "schema": {"type": "string"},
    }
}


def next_page_link(cursor: str) -> str:
    """`<url>; rel="next"` for the page that starts at `cursor`, keeping every other query
    parameter of this request (keyset pages: flask-smorest's `@blp.paginate` pages by offset,
    where page 500 costs 500 pages' work, and counts every time)."""
    params = {key: value for key, value in request.args.items() if key != "cursor"}
    params["cursor"] = cursor
    return f'<{request.base_url}?{urlencode(params)}>; rel="next"'


LIST_IF_NONE_MATCH = header_parameter(
    "If-None-Match", "Answer 304 with no body while the list still has this ETag"
)
REBALANCED_HEADER = {
    "X-Positions-Rebalanced": {
        "description": "How many tasks (or lists) got new, evenly spaced positions because no "
        "key fitted (sent only then; the feed shows them under this change's number)",
        "schema": {"type": "integer"},
    }
}


def rebalanced_header(rebalanced: int) -> dict:
    """X-Positions-Rebalanced when a write re-spaced others (REBALANCED_HEADER), else none."""
    return {"X-Positions-Rebalanced": str(rebalanced)} if rebalanced else {}


def trash_since():
    """The oldest deletion still in the trash (TRASH_RETENTION_DAYS)."""
    return kept_since(current_app.config["TRASH_RETENTION_DAYS"])


def conditional_collection_headers(state: str) -> dict:
    """The headers of a collection that answers 304 (documented), `state` saying what its
    ETag follows."""
    return {
        "ETag": {
            "description": f"{state} (weak): send it in If-None-Match to get 304 while nothing "
            "changed",
            "schema": {"type": "string"},
        },
        "Cache-Control": {"description": "private, no-cache", "schema": {"type": "string"}},
        "Vary": {"description": "Authorization", "schema": {"type": "string"}},
    }


def revalidated(tag: str) -> dict:
    """A collection may be kept by the browser, for its user only, and must be revalidated."""
    return {"ETag": f'W/"{tag}"', "Cache-Control": "private, no-cache", "Vary": "Authorization"}


def still_fresh(kind: str, number_now: Callable[[], int | None]) -> Response | None:
    """304 for a collection of `kind` whose weak ETag (`W/"<kind>-<change number>"`) the
    request's If-None-Match names, the number read (`number_now`) only if it names one; else
    None (answer the collection, with `revalidated(f"{kind}-{number}")`)."""
    if "If-None-Match" not in request.headers:
        return None
    number = number_now()
    if number is None or not request.if_none_match.contains_weak(f"{kind}-{number}"):
        return None
    return current_app.response_class(status=304, headers=revalidated(f"{kind}-{number}"))


def created_headers(noun: str, replayed_when: str) -> dict:
    """The headers of a create that a retry may replay (documented)."""
    return {
        "ETag": {"description": f"The {noun}'s version", "schema": {"type": "string"}},
        "Location": {"description": f"The new {noun}'s URL", "schema": {"type": "string"}},
        "Idempotent-Replayed": {
            "description": f"true when this is the stored answer to an earlier {replayed_when}",
            "schema": {"type": "string", "enum": ["true"]},
        },
    }


def replayed_response(answer) -> Response:
    """The answer to a create that may be a replay of the first one (an idempotency.Answer,
    which imports this module)."""
    response = current_app.json.response(answer.body)
    response.status_code = answer.status
    response.headers.update(answer.headers)
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
