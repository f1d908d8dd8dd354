"""What the webhook routes take and answer."""

from marshmallow import Schema, fields, validate
from marshmallow.utils import get_value

from ..fields import UTCTimestamp
from .feed import KINDS
from .models import URL_MAX

URL = {
    "validate": validate.Length(min=1, max=URL_MAX),
    "metadata": {
        "description": "Where messages are POSTed: http:// or https://, a public address",
        "example": "https://hooks.example.com/todo",
    },
}
EVENTS = {
    "allow_none": True,
    "validate": validate.Length(min=1, max=len(KINDS)),
    "metadata": {
        "description": "The kinds of change sent: `task` (tasks and their deletions), `list` "
        "(lists and theirs); null or absent: every kind"
    },
}


def events_field(**extra) -> fields.List:
    return fields.List(fields.String(validate=validate.OneOf(KINDS)), **EVENTS, **extra)


def events_of(kinds: str | None) -> list[str] | None:
    """The kinds an endpoint's filter keeps, as the table keeps them ("task,list")."""
    return kinds.split(",") if kinds else None


class EndpointSchema(Schema):
    """A webhook endpoint (never its secret)."""

    class Meta:
        name = "WebhookEndpoint"

    id = fields.UUID(dump_only=True, required=True)
    user_id = fields.UUID(dump_only=True, required=True)
    url = fields.String(dump_only=True, required=True)
    events = fields.Function(
        lambda endpoint: events_of(get_value(endpoint, "kinds")),
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"type": "array", "items": {"type": "string", "enum": list(KINDS)}},
    )
    enabled = fields.Boolean(
        dump_only=True,
        required=True,
        metadata={"description": "false: switched off, by its user or after failing a day"},
    )
    disabled_reason = fields.String(dump_only=True, required=True, allow_none=True)
    sequence = fields.Integer(
        dump_only=True,
        required=True,
        metadata={"description": "How many messages it acknowledged (the last one's number)"},
    )
    failures = fields.Integer(
        dump_only=True,
        required=True,
        metadata={"description": "Failed attempts of the message it is being sent"},
    )
    next_attempt_at = UTCTimestamp(dump_only=True, required=True)
    pending_ping = fields.String(
        attribute="ping_id",
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "The `message_id` of a ping asked for and not yet sent"},
    )
    created_at = UTCTimestamp(dump_only=True, required=True)
    updated_at = UTCTimestamp(dump_only=True, required=True)


class EndpointWithSecretSchema(EndpointSchema):
    """An endpoint just registered, or its secret just rotated: the secret, shown this once."""

    class Meta:
        name = "WebhookEndpointWithSecret"

    secret = fields.String(
        dump_only=True,
        required=True,
        metadata={
            "description": "The signing secret (Standard Webhooks: `whsec_` and base64); "
            "shown only now",
            "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        },
    )


class NewEndpointSchema(Schema):
    """An endpoint to register: its URL and, optionally, the kinds of change it is sent.
    A user has at most 10."""

    url = fields.String(required=True, **URL)
    events = events_field()


class EndpointChangesSchema(Schema):
    """A new URL, a new filter, or the endpoint switched on (its retries forgotten) or off."""

    url = fields.String(**URL)
    events = events_field()
    enabled = fields.Boolean()


class AttemptSchema(Schema):
    """One attempt to deliver a message, or a ping."""

    class Meta:
        name = "WebhookAttempt"

    number = fields.Integer(dump_only=True, required=True)
    message_id = fields.String(
        dump_only=True, required=True, metadata={"description": "Its `webhook-id`"}
    )
    attempted_at = UTCTimestamp(dump_only=True, required=True)
    status = fields.Integer(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "The endpoint's answer; null: none (refused, timed out…)"},
    )
    latency_ms = fields.Integer(dump_only=True, required=True)
    error = fields.String(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "What went wrong; null: delivered (a 2xx)"},
    )


class PingSchema(Schema):
    """A ping asked for: its `webhook-id`, under which the endpoint's attempts log it."""

    class Meta:
        name = "WebhookPing"

    message_id = fields.String(
        dump_only=True,
        required=True,
        metadata={"example": "msg_ping_0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
    )
