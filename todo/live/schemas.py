"""What the live routes take and answer."""

from marshmallow import Schema, fields

from ..fields import UTCTimestamp


class TicketSchema(Schema):
    class Meta:
        name = "StreamTicket"

    ticket = fields.String(
        required=True,
        metadata={"description": "Opens one stream, once, within 30 seconds"},
    )
    expires_at = UTCTimestamp(required=True)
    stream = fields.String(
        required=True,
        metadata={"description": "The stream's path with this ticket: what EventSource opens"},
    )


class StreamQuerySchema(Schema):
    ticket = fields.String(
        load_default=None, metadata={"description": "A ticket from POST …/changes/tickets"}
    )
    since = fields.String(
        metadata={
            "description": "A cursor (an event's id, or a poll's next) to resume after; "
            "a Last-Event-ID header wins when sent; omitted: a first sync"
        }
    )
