"""Marshmallow schemas: what the API takes in and what it gives back."""

from datetime import UTC

from marshmallow import Schema, fields, validate

from .models import DESCRIPTION_MAX, TITLE_MAX

PASSWORD_LENGTH = validate.Length(min=8, max=128)


class StrictBoolean(fields.Boolean):
    """A JSON true/false only: "true", 1 and null are not booleans."""

    default_error_messages = {"invalid": "Not a valid boolean: use true or false."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class UTCTimestamp(fields.DateTime):
    """RFC 3339 in UTC with a Z suffix, always with microseconds."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class TrimmedString(fields.String):
    """A string with surrounding whitespace removed before it is validated."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class Email(fields.Email):
    """Emails are trimmed and lower-cased: one account per address."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().lower()
        return super()._deserialize(value, attr, data, **kwargs)


class CredentialsSchema(Schema):
    email = Email(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, load_only=True, validate=PASSWORD_LENGTH)


class LoginSchema(Schema):
    email = Email(required=True)
    # Any length is checked against the hash; the limit only refuses absurd input.
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class PasswordChangeSchema(Schema):
    current_password = fields.String(
        required=True, load_only=True, validate=validate.Length(max=1024)
    )
    new_password = fields.String(required=True, load_only=True, validate=PASSWORD_LENGTH)


class PasswordCheckSchema(Schema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class UserSchema(Schema):
    user_id = fields.UUID(attribute="id", dump_only=True)
    email = fields.String(dump_only=True)
    created_at = UTCTimestamp(dump_only=True)


class TokenSchema(Schema):
    user_id = fields.UUID(dump_only=True)
    email = fields.String(dump_only=True)
    token = fields.String(dump_only=True)
    token_type = fields.String(dump_only=True, metadata={"example": "bearer"})
    expires_at = UTCTimestamp(dump_only=True)


class TaskSchema(Schema):
    id = fields.UUID(dump_only=True)
    user_id = fields.UUID(dump_only=True)
    title = fields.String(dump_only=True)
    description = fields.String(dump_only=True, allow_none=True)
    completed = fields.Boolean(dump_only=True)
    created_at = UTCTimestamp(dump_only=True)
    updated_at = UTCTimestamp(dump_only=True)


class TaskChangesSchema(Schema):
    """Some of a task's fields: only the ones sent change."""

    title = TrimmedString(validate=validate.Length(min=1, max=TITLE_MAX))
    description = fields.String(allow_none=True, validate=validate.Length(max=DESCRIPTION_MAX))
    completed = StrictBoolean()


class TaskInputSchema(TaskChangesSchema):
    """A new task, or the full replacement of one (an omitted description becomes null)."""

    title = TrimmedString(required=True, validate=validate.Length(min=1, max=TITLE_MAX))
    description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=DESCRIPTION_MAX)
    )


class CompletionSchema(Schema):
    """Without `completed` the task's completion flips; with it, it is set (safe to retry)."""

    completed = StrictBoolean()


class StatusSchema(Schema):
    status = fields.String(dump_only=True, metadata={"example": "ok"})
