"""What the sharing routes take and answer."""

from marshmallow import Schema, fields, validate

from ..fields import Email, UTCTimestamp
from .models import EMAIL_LENGTH, ROLES

ROLE = {
    "validate": validate.OneOf(ROLES),
    "metadata": {"description": "editor: reads and writes the list's tasks; viewer: reads"},
}


class NewInvitationSchema(Schema):
    """Whom to invite (an email, trimmed and compared without case, with or without an
    account) and with which role."""

    email = Email(required=True, validate=validate.Length(max=EMAIL_LENGTH))
    role = fields.String(required=True, **ROLE)


class RoleChangeSchema(Schema):
    role = fields.String(required=True, **ROLE)


class InvitationSchema(Schema):
    """A pending invitation, as its owner sees it."""

    id = fields.UUID(dump_only=True, required=True)
    list_id = fields.UUID(dump_only=True, required=True)
    email = fields.String(dump_only=True, required=True)
    role = fields.String(dump_only=True, required=True)
    created_at = UTCTimestamp(dump_only=True, required=True)


class ReceivedInvitationSchema(Schema):
    """An invitation waiting for the caller's email: who invites, to which list (its name
    when invited), with which role."""

    id = fields.UUID(attribute="invitation_id", dump_only=True, required=True)
    owner_id = fields.UUID(dump_only=True, required=True)
    owner_email = fields.String(dump_only=True, required=True)
    list_id = fields.UUID(dump_only=True, required=True)
    list_name = fields.String(dump_only=True, required=True)
    role = fields.String(dump_only=True, required=True)
    created_at = UTCTimestamp(dump_only=True, required=True)


class MemberSchema(Schema):
    """A member of a list, as its owner sees it."""

    member_id = fields.UUID(dump_only=True, required=True)
    role = fields.String(dump_only=True, required=True)
    created_at = UTCTimestamp(dump_only=True, required=True)


class MembershipSchema(Schema):
    """A list of another user's shared with the caller."""

    owner_id = fields.UUID(dump_only=True, required=True)
    list_id = fields.UUID(dump_only=True, required=True)
    role = fields.String(dump_only=True, required=True)
    created_at = UTCTimestamp(dump_only=True, required=True)
