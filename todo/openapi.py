"""What the OpenAPI document says beyond what the views declare, so that generators (openapi-
typescript, openapi-python-client) make good clients of it: an introduction, a server, the
headers every answer carries, one example problem per error status, and schemas shaped as
the API checks them (nullable objects, wall times, objects of several forms).

flask-smorest builds the document from the views' decorators; this module adds only what holds
for every operation or schema, through apispec's public plugin hooks and the spec options.
"""

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from marshmallow import Schema
from marshmallow.fields import Field, Nested

from .fields import WallTime

REQUEST_ID = {
    "description": "This answer's id, also in the server's log line for the request: the "
    "X-Request-ID sent, when it is 1-128 letters, digits or ._:-",
    "schema": {"type": "string"},
}
NO_STORE = {
    "description": "Always no-store: tokens and account data are not to be cached",
    "schema": {"type": "string", "enum": ["no-store"]},
}
RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}
# The request budget's fields (draft-ietf-httpapi-ratelimit-headers), on every answer of an
# authenticated route (todo/budgets.py).
BUDGET_HEADERS = {
    "RateLimit-Policy": {
        "description": "The request budget this route spends: its name, quota q and window w "
        'in seconds, as "default";q=3000;w=900',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": "What is left of it: r requests for the next t seconds, as "
        '"default";r=2999;t=512',
        "schema": {"type": "string"},
    },
}

DESCRIPTION = """A multi-user todo API: email + password accounts, bearer tokens, and each user's
own tasks under /api/{user_id}/tasks. The guides, one topic a page, are served beside these docs:
[tasks and queries](/docs/guides/tasks.md), [sync](/docs/guides/sync.md),
[dates](/docs/guides/dates.md), [organize](/docs/guides/organize.md),
[webhooks](/docs/guides/webhooks.md), [errors and generated clients and request
budgets](/docs/guides/errors-and-clients.md), [security](/docs/guides/security.md).

**Authorizing.** Sign up (POST /api/auth/signup), then log in (POST /api/auth/login): the answer
carries a `token` (a JWT valid 7 days) and your `user_id`. Send the token on every other call as
`Authorization: Bearer <token>` (the scheme in any case), and use your `user_id` in task URLs:
another user's URL is a 403 (unless a list of theirs is shared with you), another user's task a
404. Logout, a password change and account deletion revoke tokens on every server.

**Errors** ([guide](/docs/guides/errors-and-clients.md)) are application/problem+json (RFC 9457):
`type`, `title`, `status`, `detail`, and for invalid input `errors` by field. Besides those listed
per operation, any request can get 405 (method not allowed on this path), 408 (the request did not
arrive whole within 10 s), 413 (body over 64 KiB; 10 MiB for an import), 414 (request line over
4 KiB) or 431 (headers over 32 KiB); these close the connection.

**Lists** ([guide](/docs/guides/tasks.md)) are keyset pages: follow the `Link: <…>; rel="next"`
header; `X-Total-Count` counts the tasks matching the filters; the list's weak ETag in
`If-None-Match` gets 304 while nothing changed. **Writes** take `If-Match` with a task's ETag (412
when the task changed since), and a task creation takes an `Idempotency-Key`, or a client-chosen
`id`, to be retried safely.

**Sync** ([guide](/docs/guides/sync.md)). GET /api/{user_id}/changes gives every live task, then
with `since` what changed (tasks, and deletions under `deleted`), in commit order; keep its `next`.
A delete moves a task to the trash (restorable, `?deleted=true` lists it); POST /api/{user_id}/batch
applies up to 100 writes at once, all or nothing.

**Problem types** beside about:blank, for answers a client acts on by kind:
`/problems/cursor-expired` (410: sync again without `since`), `/problems/id-conflict` (409: the
chosen id is taken), `/problems/batch-failed` (the failed operation's status, with its `index`),
`/problems/parent-in-trash` (409: restore the parent first), `/problems/stale-order` (409: the order
changed since; read it and place again), `/problems/order-too-dense` (409: no room to place there),
`/problems/too-many-lists`, `/problems/too-many-labels` and `/problems/too-many-webhooks` (422: a
per-user cap), `/problems/too-many-members` (422: a shared list's 25 members and invitations),
`/problems/too-many-shared-lists` (422: accepting a 101st list shared with one account),
`/problems/url-refused` (422: a webhook URL that is not http(s) to a public address),
`/problems/too-many-tasks` (422: an import of more than 20,000 tasks: split it),
`/problems/too-many-subscriptions` (422: 20 calendar subscriptions; revoke one first),
`/problems/import-invalid` (422: a file that cannot be read, with `where`),
`/problems/import-rejected` (422: an import with problems, each in `problems`; nothing written),
`/problems/import-stopped` (an import job's answer, 500: its worker stopped before it finished,
or its file waited a day unread; send the file again) and `/problems/queue-unavailable` (503:
the import queue's Redis does not answer; try again).

**Sharing** ([guide](/docs/guides/sharing.md)). The owner of a list invites by email (POST
/api/{user_id}/lists/{list_id}/invitations), as an editor or a viewer; the invitee accepts
(POST /api/{user_id}/invitations/{invitation_id}/accept) and finds the list among their lists."""


def error_response(status: HTTPStatus, schema, example: dict) -> dict:
    """The component for an error status: a problem, with its example and its headers."""
    headers = {"X-Request-ID": REQUEST_ID}
    if status in (429, 503):
        headers["Retry-After"] = RETRY_AFTER
    if status == 429:
        headers.update(BUDGET_HEADERS)
    return {
        "description": status.phrase,
        "headers": headers,
        "content": {"application/problem+json": {"schema": schema, "example": example}},
    }


def operation_id(view_name: str) -> str:
    """`list_tasks` -> `listTasks`: stable names for generated client functions."""
    first, *rest = view_name.split("_")
    return first + "".join(word.capitalize() for word in rest)


# Where a view lists the request headers it reads (Blueprint.headers): flask-smorest's own
# `doc(parameters=…)` would replace the query parameters its `arguments` document.
HEADER_PARAMETERS = "x-header-parameters"


class AnswerHeaders(BasePlugin):
    """Every answer carries X-Request-ID; those of the account routes Cache-Control too; those
    of an authenticated route its request budget, which may answer 429; any operation may be
    answered 405 (its path with another method); and the request headers a view reads join
    its parameters."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            headers = operation.pop(HEADER_PARAMETERS, [])
            operation.setdefault("parameters", []).extend(headers)
            if not operation["parameters"]:
                del operation["parameters"]
            operation.setdefault("responses", {}).setdefault(405, "METHOD_NOT_ALLOWED")
            budgeted = operation.get("security") != []
            if budgeted:
                operation["responses"].setdefault(429, "TOO_MANY_REQUESTS")
            for response in operation["responses"].values():
                if not isinstance(response, dict) or "$ref" in response:
                    continue  # error components carry their headers themselves
                headers = response.setdefault("headers", {})
                headers["X-Request-ID"] = REQUEST_ID
                if path.startswith("/api/auth/"):
                    headers["Cache-Control"] = NO_STORE
                if budgeted:
                    headers.update(BUDGET_HEADERS)


SPEC_OPTIONS = {
    "info": {
        "description": DESCRIPTION,
        "license": {"name": "MIT", "url": "https://opensource.org/license/mit"},
    },
    "servers": [{"url": "/", "description": "the server this document was read from"}],
    "security": [{"bearerAuth": []}],
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "The token of POST /api/auth/login",
            }
        }
    },
}


# Null, and nothing else, as OpenAPI 3.0.3 can say it: `nullable` only widens a `type` given
# beside it (`nullable` beside an `allOf` without one allows no null at all).
NULL = {"type": "object", "nullable": True, "enum": [None]}


def nullable_reference(self, field: Field, ret: dict, **kwargs) -> dict:
    """A nested object that may be null: one of its schema and null. apispec writes anyOf
    [{type: object, nullable: true}, its $ref], which lets any object through: openapi-typescript
    made `Due | {} | null` of it, and clients narrowed `{}` away by hand."""
    if not isinstance(field, Nested) or not field.allow_none:
        return {}
    references = [choice for choice in ret.pop("anyOf") if "$ref" in choice]
    return {"oneOf": [*references, NULL]}


def wall_time(self, field: Field, ret: dict, **kwargs) -> dict:
    """A wall time is a string of its pattern (marshmallow's base Field has no type)."""
    if not isinstance(field, WallTime):
        return {}
    return {"type": "string", "pattern": f"^{WallTime.PATTERN.pattern}$"}


@dataclass(frozen=True)
class OneOf:
    """How a schema is documented when its objects take several forms (a due date's, a batch
    operation's): as one of these schemas, each requiring what its form needs, so that a
    generated client refuses at compile time what the API refuses at run time (`due: {}`,
    `{op: "patch"}` without an id). `tag`: the member whose value (each form's key) tells
    the forms apart. A single form documents the schema as that form, under its own name."""

    forms: Mapping[str, type[Schema]]
    tag: str | None = None


def form(name: str, of: type[Schema], needs: Iterable[str], may_have: Iterable[str] = (), **own):
    """One form of `of`'s objects as a schema of its own, for the document: the members it
    needs (required, not null) and those it may have, as `of` declares them, and members
    declared here (`own`, such as the tag's one value)."""
    declared = of._declared_fields
    members = {member: needed(declared[member]) for member in needs}
    members.update({member: declared[member] for member in may_have})
    return Schema.from_dict({**members, **own}, name=name)


def needed(field: Field) -> Field:
    field = copy.copy(field)
    field.required, field.allow_none = True, False
    return field


class ClientShapes(BasePlugin):
    """Schemas as the API checks them, for generated clients: nullable nested objects
    (`nullable_reference`), wall times (`wall_time`), and a schema whose class says it is
    `documented_as` one of several forms (`OneOf`) documented so."""

    def init_spec(self, spec):
        self.marshmallow = next(p for p in spec.plugins if isinstance(p, MarshmallowPlugin))
        self.marshmallow.converter.add_attribute_function(nullable_reference)
        self.marshmallow.converter.add_attribute_function(wall_time)

    def schema_helper(self, name, definition, schema=None, **kwargs):
        # The class's own word: a subclass is a schema of its own (WholeDue of DueInput).
        documented_as = schema and vars(resolve_schema_cls(schema)).get("documented_as")
        if documented_as is None:
            return None
        converter = self.marshmallow.converter
        definition.clear()  # the flat shape the marshmallow plugin made of every member
        if len(documented_as.forms) == 1:
            (only,) = documented_as.forms.values()
            return converter.schema2jsonschema(only)
        forms = {
            key: converter.resolve_nested_schema(one) for key, one in documented_as.forms.items()
        }
        one_of = {"oneOf": list(forms.values())}
        if documented_as.tag is not None:
            mapping = {key: reference["$ref"] for key, reference in forms.items()}
            one_of["discriminator"] = {"propertyName": documented_as.tag, "mapping": mapping}
        return one_of
