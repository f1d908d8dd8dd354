"""Accounts' schemas: what sign-up, login and the password routes take, and what they answer."""

from marshmallow import Schema, fields, validate

from ..fields import Email, Text, UTCTimestamp
from ..tasks.newer_schemas import ZoneName

PASSWORD_LENGTH = validate.Length(min=8, max=128)
# A password being checked may be of any length it was set with; this only refuses absurd input.
CHECKED_PASSWORD_LENGTH = validate.Length(max=1024)


class CredentialsSchema(Schema):
    email = Email(required=True, validate=validate.Length(max=320))
    password = Text(required=True, load_only=True, validate=PASSWORD_LENGTH)


class LoginSchema(Schema):
    email = Email(required=True)
    password = Text(required=True, load_only=True, validate=CHECKED_PASSWORD_LENGTH)


class PasswordChangeSchema(Schema):
    current_password = Text(required=True, load_only=True, validate=CHECKED_PASSWORD_LENGTH)
    new_password = Text(required=True, load_only=True, validate=PASSWORD_LENGTH)


class PasswordCheckSchema(Schema):
    password = Text(required=True, load_only=True, validate=CHECKED_PASSWORD_LENGTH)


class UserSchema(Schema):
    """`required` on answers' fields: always present (it tells generated clients so)."""

    user_id = fields.UUID(attribute="id", dump_only=True, required=True)
    email = fields.String(dump_only=True, required=True)
    created_at = UTCTimestamp(dump_only=True, required=True)
    timezone = fields.String(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={
            "description": "The user's IANA zone, where their today is; null: UTC",
            "example": "Europe/Paris",
        },
    )


class ProfileChangesSchema(Schema):
    timezone = ZoneName(
        required=True,
        allow_none=True,
        metadata={"description": "An IANA zone name; null: UTC", "example": "Europe/Paris"},
    )


class TokenSchema(Schema):
    user_id = fields.UUID(dump_only=True, required=True)
    email = fields.String(dump_only=True, required=True)
    token = fields.String(dump_only=True, required=True)
    token_type = fields.String(dump_only=True, required=True, metadata={"example": "bearer"})
    expires_at = UTCTimestamp(dump_only=True, required=True)
