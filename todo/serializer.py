"""Answers made from rows without marshmallow's per-field work: a schema that describes an
answer (for the OpenAPI document) dumps through an encoder built once from its own fields.

marshmallow dumps a field at a time through several method calls (~12 us per 7-field task,
1.2 ms of a 100-task page); the encoder reads all of a row's values in one call and converts
only the timestamps. It accepts only the field kinds it reproduces exactly, and
tests/test_serializer.py checks it against marshmallow's own dump for every combination of
values, so the two cannot drift.
"""

from collections.abc import Callable
from operator import attrgetter, itemgetter

from marshmallow import Schema, fields

from .fields import UTCTimestamp, utc_text


class StoredList(fields.List):
    """A list stored as its answer gives it (a JSON column): dumped as it is."""


# Fields whose dumped value is the attribute's value itself.
AS_IS = (fields.String, fields.Boolean, fields.Integer, StoredList)


class Composed(fields.Nested):
    """An object made of several of a row's columns (a due date of four): `compose` takes the
    columns' values and gives the object's members, or None; `nested` describes them (for the
    document, and marshmallow's own dump). The encoder calls `encode`, which must give what
    that dump gives: tests/test_serializer.py checks it."""

    def __init__(self, nested, sources: tuple[str, ...], compose, encode, **kwargs):
        super().__init__(nested, **kwargs)
        self.sources, self.compose, self.encode = sources, compose, encode

    def serialize(self, attr, obj, accessor=None, **kwargs):
        members = self.compose(*(self.get_value(obj, source, accessor) for source in self.sources))
        return self._serialize(members, attr, obj, **kwargs)


def row_encoder(schema: Schema) -> Callable[[object], dict]:
    """A function from a row (any object with the attributes) to the dict `schema.dump` makes.
    Composed fields come last in the schema (their members follow the plain values)."""
    keys, attributes, stamped, composed = [], [], [], []
    for name, field in schema.dump_fields.items():
        if isinstance(field, Composed):
            composed.append((field.data_key or name, len(attributes), field))
            attributes.extend(field.sources)
            continue
        if composed:
            raise TypeError(f"{type(schema).__name__}.{name}: declared after a composed field")
        if isinstance(field, UTCTimestamp):
            stamped.append(len(keys))
        elif not isinstance(field, AS_IS) or isinstance(field, fields.Email | fields.UUID):
            raise TypeError(f"{type(schema).__name__}.{name}: no fast dump for {field!r}")
        keys.append(field.data_key or name)
        attributes.append(field.attribute or name)
    plain = len(keys)
    composed = [(key, start, start + len(f.sources), f.encode) for key, start, f in composed]
    by_attribute = attrgetter(*attributes)
    by_position = {}  # a result's column names -> the positions of the schema's attributes

    def read(row):
        """Rows (SQLAlchemy's, and named tuples) are read by position, one C call for all
        the values (~0.2 us; by name, ~0.5 us each); other objects by attribute."""
        columns = getattr(row, "_fields", None)
        if columns is None:
            return by_attribute(row)
        getter = by_position.get(columns)
        if getter is None:
            getter = by_position[columns] = itemgetter(*map(columns.index, attributes))
        return getter(row)

    def encode(row) -> dict:
        values = list(read(row))
        for index in stamped:
            if values[index] is not None:
                values[index] = utc_text(values[index])
        answer = dict(zip(keys, values[:plain], strict=True))
        for key, start, end, encode_members in composed:
            answer[key] = encode_members(*values[start:end])
        return answer

    return encode


class EncodedSchema(Schema):
    """A schema that dumps through its `row_encoder` (built on first use)."""

    def dump(self, obj, *, many: bool | None = None):
        encode = self.__dict__.get("_encode") or self.__dict__.setdefault(
            "_encode", row_encoder(self)
        )
        if self.many if many is None else many:
            return [encode(row) for row in obj]
        return encode(obj)
