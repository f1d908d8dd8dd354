"""CORS headers as flask-cors works them out, remembered per route and Origin.

flask-cors works the headers out anew for every answer: it matches the path against its
resources, the Origin against the allowed origins, builds them in dictionaries and formats
them for a debug line whether or not that line is written (~15 us of a served read,
bench/RESULTS.md). For an answer that is not a preflight, what it adds depends only on the
path's route, the request's Origin and whether the request asks about private networks; so
the first answer of each route and Origin has them worked out by flask-cors, and later ones
get the same headers, in the same order. Preflights, requests about private networks and
answers outside any route are always left to flask-cors, as are answers it already dealt
with (errors: it wraps Flask's exception handlers).
"""

from flask import Flask, Response, request
from flask_cors import CORS
from flask_cors.core import ACL_ORIGIN

# The request headers flask-cors reads, as the WSGI environ names them (read there directly:
# werkzeug's `in request.headers` builds an exception for every header that is absent).
ORIGIN, ASKS_ABOUT_PRIVATE_NETWORK = "HTTP_ORIGIN", "HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"

# Routes x Origins remembered at most: Origins are the client's to choose, and one it made up
# must not make the memory grow; past this, answers are worked out as before.
REMEMBERED_AT_MOST = 512


def init_app(app: Flask, cors: CORS) -> None:
    cors.init_app(app)
    hooks = app.after_request_funcs[None]
    works_out = hooks[-1]  # the hook cors.init_app just added
    if works_out.__name__ != "cors_after_request":
        raise RuntimeError("flask-cors no longer adds its after_request hook last")
    hooks[-1] = remembering(works_out)


def remembering(works_out):
    """An after_request hook doing what flask-cors' `works_out` does, remembering it."""
    added_by_key: dict[tuple, list[tuple[str, str]]] = {}

    def add_cors_headers(response: Response) -> Response:
        headers = response.headers
        environ = request.environ
        origin = environ.get(ORIGIN)
        rule = request.url_rule
        if (
            rule is None
            or request.method == "OPTIONS"  # werkzeug upper-cases it; the environ has it as sent
            or ASKS_ABOUT_PRIVATE_NETWORK in environ
            or ACL_ORIGIN in headers.keys()  # noqa: SIM118 (`in headers` raises when absent)
        ):
            return works_out(response)
        key = (rule.rule, origin)  # the route's pattern: its paths all match CORS_RESOURCES or none
        added = added_by_key.get(key)
        if added is not None:
            headers.extend(added)
            return response
        count_before = len(headers)
        response = works_out(response)
        if len(added_by_key) < REMEMBERED_AT_MOST:
            added_by_key[key] = list(response.headers.items())[count_before:]
        return response

    return add_cors_headers
