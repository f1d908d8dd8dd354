"""What the label routes take and answer, and the label field tasks take."""

from marshmallow import Schema, ValidationError, fields

from ..fields import Text
from ..serializer import EncodedSchema
from . import names


class LabelName(Text):
    """A label as sent: trimmed, 1 to 64 characters, no control characters."""

    def __init__(self, **kwargs):
        metadata = {"minLength": 1, "maxLength": names.NAME_MAX, "example": "errands"}
        super().__init__(metadata=metadata | kwargs.pop("metadata", {}), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return names.checked(super()._deserialize(value, attr, data, **kwargs))
        except names.LabelNameInvalid as error:
            raise ValidationError(str(error)) from None


class LabelSchema(EncodedSchema):
    """A label as GET /labels and a rename answer it."""

    name = fields.String(
        dump_only=True, required=True, metadata={"description": "As first spelled, or renamed"}
    )
    task_count = fields.Integer(
        dump_only=True, required=True, metadata={"description": "The live tasks carrying it"}
    )


class LabelRenameSchema(Schema):
    """The label's new name; the name of another label merges the two under it."""

    name = LabelName(required=True)
