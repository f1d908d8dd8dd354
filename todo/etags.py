"""ETags of single tasks (their version), and the If-Match / If-None-Match checks made with them.

If-Match is turned into a condition of the write statement itself (todo/tasks/rows.py:
guarded), so the check and the write are one atomic step: two writers holding the same ETag
cannot both succeed.
The routes hand in their request (werkzeug parses the headers).
"""

import re

from flask import current_app
from werkzeug import Request
from werkzeug.http import parse_etags

from .blueprint import header_parameter

IF_MATCH = header_parameter(
    "If-Match", "Apply only if the task's ETag is one of these (or *); else 412"
)
IF_NONE_MATCH = header_parameter(
    "If-None-Match", "Answer 304 with no body if the current ETag is one of these"
)
# What etag() makes: a version in plain ASCII digits, so "01" never matches version 1.
VERSION = re.compile(r"[1-9][0-9]{0,17}")
ETAG_HEADER = {"ETag": {"description": "The task's version", "schema": {"type": "string"}}}


def etag(task) -> str:
    return f'"{task.version}"'


def if_match_versions(request: Request) -> list[int] | None:
    """The versions the request's If-Match allows (`versions_in`)."""
    return versions_in(request.headers.get("If-Match"))


def versions_in(if_match: str | None) -> list[int] | None:
    """The versions an If-Match value allows (strong comparison); None when any will do (no
    value, or `*`). A list of none allows no version at all."""
    if not if_match:
        return None
    tags = parse_etags(if_match)
    if tags.star_tag:
        return None
    # werkzeug gives an empty tag (`""`) as None, which matches no version.
    return [int(tag) for tag in tags.as_set() if tag and VERSION.fullmatch(tag)]


def not_modified(request: Request, task) -> bool:
    """True when If-None-Match names the task's current ETag (weak comparison). Most reads
    send none, and werkzeug would parse even the absent header (~10 us)."""
    if "If-None-Match" not in request.headers:
        return False
    return request.if_none_match.contains_weak(str(task.version))


def fresh_or_tagged(request: Request, row):
    """A single task's or list's answer: 304 with its ETag while If-None-Match names it,
    else the row with its ETag."""
    if not_modified(request, row):
        return current_app.response_class(status=304, headers={"ETag": etag(row)})
    return row, {"ETag": etag(row)}
