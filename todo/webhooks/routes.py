"""Webhooks blueprint, under /api/<user_id>/webhooks: a user's endpoints, their secrets, their
delivery logs and a test ping. The views read the request and answer; the statements
(store.py) take the caller and raise, and the factory maps their errors. Deliveries, pings
too, are `flask todo deliver`'s (delivery.py), not a request's: no request waits on an
endpoint."""

from flask import current_app, g, url_for

from ..blueprint import Blueprint
from . import delivery, examples, sender, store
from .schemas import (
    AttemptSchema,
    EndpointChangesSchema,
    EndpointSchema,
    EndpointWithSecretSchema,
    NewEndpointSchema,
    PingSchema,
)

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/api/<user_id:user_id>/webhooks",
    description="Webhooks: a user's changes POSTed, signed, to their endpoints",
    problem_examples=examples.ENDPOINT_PROBLEMS,
)
LOCATION = {"Location": {"description": "The endpoint's URL", "schema": {"type": "string"}}}
LOG_LOCATION = {
    "Location": {"description": "The endpoint's attempts", "schema": {"type": "string"}}
}


def settings() -> delivery.Settings:
    return delivery.Settings.of(current_app.config)


def checked_kinds(fields: dict) -> dict:
    """The URL checked now (a refused one is 422), the events as the table keeps them."""
    if "url" in fields:
        sender.check_url(fields["url"], settings().reach)
    if "events" in fields:
        events = fields.pop("events")
        fields["kinds"] = ",".join(dict.fromkeys(events)) if events else None
    return fields


@blp.route("", methods=["GET"])
@blp.response(200, EndpointSchema(many=True))
@blp.problems(401, 403, 503)
def list_webhooks(user_id):
    """List the user's webhook endpoints.

    Oldest first, at most 10; their secrets are never shown again.
    """
    return store.all_endpoints(g.caller)


@blp.route("", methods=["POST"])
@blp.arguments(NewEndpointSchema(), examples=examples.NEW_ENDPOINT)
@blp.response(201, EndpointWithSecretSchema, headers=LOCATION)
@blp.problems(400, 401, 403, 413, 415, 503, examples=examples.NEW_ENDPOINT_PROBLEMS)
def create_webhook(fields, user_id):
    """Register a webhook endpoint; its signing secret is in this answer only.

    It is sent the changes made from now on, a page of the change feed a message, in order,
    signed as Standard Webhooks say. 422 (`/problems/url-refused`) for an address of the
    server's own networks; 422 (`/problems/too-many-webhooks`) past 10 endpoints.
    """
    fields = checked_kinds(fields)
    row, secret = store.add_endpoint(g.caller, fields["url"], fields.get("kinds"))
    location = url_for("webhooks.read_webhook", user_id=row.user_id, endpoint_id=row.id)
    return with_secret(row, secret), 201, {"Location": location}


def with_secret(row, secret: str) -> dict:
    return {**row._mapping, "secret": secret}


@blp.route("/<uuid:endpoint_id>", methods=["GET"])
@blp.response(200, EndpointSchema)
@blp.problems(401, 403, 404, 503)
def read_webhook(user_id, endpoint_id):
    """Read one webhook endpoint.

    Whether it is on (and if not, why), how many messages it acknowledged, and its retries.
    """
    return store.read_endpoint(g.caller, endpoint_id)


@blp.route("/<uuid:endpoint_id>", methods=["PATCH"])
@blp.arguments(EndpointChangesSchema(), examples=examples.ENDPOINT_CHANGES)
@blp.response(200, EndpointSchema)
@blp.problems(400, 401, 403, 404, 413, 415, 503, examples=examples.ENDPOINT_CHANGES_PROBLEMS)
def update_webhook(fields, user_id, endpoint_id):
    """Change a webhook endpoint's URL or filter, or switch it on or off.

    Switched on again, it resumes where it stopped: the message it failed to deliver first.
    """
    return store.change_endpoint(g.caller, endpoint_id, checked_kinds(fields))


@blp.route("/<uuid:endpoint_id>", methods=["DELETE"])
@blp.response(204)
@blp.problems(401, 403, 404, 503)
def delete_webhook(user_id, endpoint_id):
    """Delete a webhook endpoint.

    Nothing more is sent to it; its log goes with it.
    """
    store.delete_endpoint(g.caller, endpoint_id)


@blp.route("/<uuid:endpoint_id>/rotate", methods=["POST"])
@blp.response(200, EndpointWithSecretSchema)
@blp.problems(401, 403, 404, 503)
def rotate_webhook_secret(user_id, endpoint_id):
    """Give a webhook endpoint a new signing secret; it is in this answer only.

    Every message from now on is signed with it; the old one signs nothing more.
    """
    row, secret = store.rotate_secret(g.caller, endpoint_id)
    return with_secret(row, secret)


@blp.route("/<uuid:endpoint_id>/attempts", methods=["GET"])
@blp.response(200, AttemptSchema(many=True))
@blp.problems(401, 403, 404, 503)
def list_webhook_attempts(user_id, endpoint_id):
    """List a webhook endpoint's last 100 attempts, newest first.

    Each with the answer's status, the time it took and what went wrong.
    """
    return store.endpoint_log(g.caller, endpoint_id)


@blp.route("/<uuid:endpoint_id>/ping", methods=["POST"])
@blp.response(202, PingSchema, headers=LOG_LOCATION)
@blp.problems(401, 403, 404, 503)
def ping_webhook(user_id, endpoint_id):
    """Ask for a signed `ping` message to be sent to a webhook endpoint.

    The delivery processes send it, outside the endpoint's sequence of messages, switched off
    or not; how it went is logged with its attempts, under this `message_id`. Asked for again
    before it was sent, it is the same ping.
    """
    message_id = store.ask_ping(g.caller, endpoint_id)
    log = url_for("webhooks.list_webhook_attempts", user_id=user_id, endpoint_id=endpoint_id)
    return {"message_id": message_id}, 202, {"Location": log}
