"""Answers made from rows without marshmallow's per-field work: a schema that describes an
answer (for the OpenAPI document) dumps through an encoder built once from its own fields.

marshmallow dumps a field at a time through several method calls (~12 us per 7-field task,
1.2 ms of a 100-task page); the encoder makes the answer in one call: a function compiled for
the schema and for the columns of the result it reads (each value read by position where the
answer takes it), a dict display of its fields (1.1 us per task against 2.4 us for a loop
over them), that converts only the timestamps that come as datetimes (reads select theirs as
answer text printed by the database: columns.answer_time) and parses only the stored lists
that come as JSON text (columns.JSONText). It accepts only the field kinds it reproduces
exactly, and tests/test_serializer.py checks it against marshmallow's own dump for every
combination of values, so the two cannot drift.
"""

from collections.abc import Callable
from functools import partial
from operator import attrgetter

import orjson
from marshmallow import Schema, fields, missing

from .fields import UTCTimestamp
from .timestamps import utc_text


class StoredList(fields.List):
    """A list stored as its answer gives it (a JSON column): dumped as it is, or as its JSON
    text says when read as that (columns.JSONText)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(as_stored(value), attr, obj, **kwargs)


def as_stored(value):
    return orjson.loads(value) if isinstance(value, str) else value


class OwnersOr(fields.String):
    """A user id, never null, that is most often the row's owner's (`owner`: that attribute):
    read as null then, and answered as the owner's (tasks.models.answered_who), which the
    answer carries anyway."""

    def __init__(self, owner: str, **kwargs):
        super().__init__(**kwargs)
        self.owner = owner

    def get_value(self, obj, attr, accessor=None, default=missing):
        value = super().get_value(obj, attr, accessor, default)
        return super().get_value(obj, self.owner, accessor, default) if value is None else value


# Fields whose dumped value is the attribute's value itself.
AS_IS = (fields.String, fields.Boolean, fields.Integer)


class Composed(fields.Nested):
    """An object made of several of a row's columns (a due date of four): `compose` takes the
    columns' values and gives the object's members, or None; `nested` describes them (for the
    document, and marshmallow's own dump). The encoder calls `encode`, which must give what
    that dump gives: tests/test_serializer.py checks it. `null_without_first`: the object is
    null whenever its first source is (a due date without its day); the encoder then answers
    null without the call (a Python call per row and field: 2% of a 100-task page's
    instructions, callgrind). `members`, instead of `compose` and `encode`: the object is the
    sources' values as they are, under these names in the same order; the encoder writes it
    in its own display, with no call at all."""

    def __init__(
        self,
        nested,
        sources: tuple[str, ...],
        compose=None,
        encode=None,
        *,
        members: tuple[str, ...] | None = None,
        null_without_first: bool = False,
        **kwargs,
    ):
        super().__init__(nested, **kwargs)
        if members is not None:
            compose = encode = partial(members_of, members)
        self.null_without_first, self.members = null_without_first, members
        self.sources, self.compose, self.encode = sources, compose, encode

    def serialize(self, attr, obj, accessor=None, **kwargs):
        members = self.compose(*(self.get_value(obj, source, accessor) for source in self.sources))
        return self._serialize(members, attr, obj, **kwargs)


def members_of(names: tuple[str, ...], *values) -> dict:
    return dict(zip(names, values, strict=True))


class RowEncoder:
    """Rows (any objects with the attributes) to the dicts `schema.dump` makes: `one(row)`,
    `many(rows)`. Composed fields come last in the schema (their members follow the plain
    values)."""

    def __init__(self, schema: Schema):
        keys, attributes, answered, composed, owners = [], [], [], [], {}
        for name, field in schema.dump_fields.items():
            if isinstance(field, Composed):
                composed.append((field.data_key or name, len(attributes), field))
                attributes.extend(field.sources)
                continue
            if composed:
                raise TypeError(f"{type(schema).__name__}.{name}: declared after a composed field")
            if isinstance(field, UTCTimestamp):
                answered.append(STAMPED)
            elif isinstance(field, OwnersOr):
                answered.append(OWNERS_OR)
                owners[len(keys)] = field.owner
            elif isinstance(field, StoredList):
                answered.append(STORED)
            elif isinstance(field, AS_IS) and not isinstance(field, fields.Email | fields.UUID):
                answered.append(AS_READ)
            else:
                raise TypeError(f"{type(schema).__name__}.{name}: no fast dump for {field!r}")
            keys.append(field.data_key or name)
            attributes.append(field.attribute or name)
        self.attributes = attributes
        if not set(owners.values()) <= {*attributes}:
            raise TypeError(f"{type(schema).__name__}: an owner's id is none of its attributes")
        # Each OwnersOr field's owner, by the field's place and its owner's among the attributes.
        owners = {at: attributes.index(owner) for at, owner in owners.items()}
        self.compile = partial(
            compile_encoder, type(schema).__name__, keys, answered, composed, owners
        )
        in_order, by_attribute = self.compile(range(len(attributes))), attrgetter(*attributes)
        self.by_attribute = lambda obj: in_order(by_attribute(obj))
        self.by_columns = {}  # a result's column names -> the encoder that reads its rows

    def encoder(self, row) -> Callable[[object], dict]:
        """How to encode rows like `row`. Rows (SQLAlchemy's, and named tuples) by position,
        with an encoder compiled for their columns: each value read where the answer takes
        it, with no tuple of them made first (~3.7k instructions a task, 9% of a 100-task
        page's encoding, callgrind); other objects by attribute, all in one C call."""
        columns = getattr(row, "_fields", None)
        if columns is None:
            return self.by_attribute
        encode = self.by_columns.get(columns)
        if encode is None:
            positions = [columns.index(attribute) for attribute in self.attributes]
            encode = self.by_columns[columns] = self.compile(positions, True)
        return encode

    def one(self, row) -> dict:
        return self.encoder(row)(row)

    def many(self, rows) -> list[dict]:
        """The rows of one result share their columns (SQLAlchemy's `_parent`, a named
        tuple's type): their encoder is found once for all of them, not per row (asking a
        SQLAlchemy row its `_fields` builds a list: 2% of a 20-task list's CPU)."""
        answers, shape, encode = [], None, None
        for row in rows:
            row_shape = getattr(row, "_parent", None) or type(row)
            if row_shape is not shape:
                shape, encode = row_shape, self.encoder(row)
            answers.append(encode(row))
        return answers


# How a plain field's answer is made of its value, read by the expression `{value}`: as it is,
# for a timestamp as text as it is (the database's own answer_time) or a datetime as utc_text
# makes it, for a stored list as it is or its JSON text parsed in one C call (as_stored).
AS_READ = "{value}"
STAMPED = "(value if (value := {value}) is None or value.__class__ is str else utc_text(value))"
STORED = "(loads(value) if (value := {value}).__class__ is str else value)"
OWNERS_OR = "({value} or {owner})"
# The most members a dict display of constant keys makes in one presized step (CPython's
# BUILD_CONST_KEY_MAP); a longer display adds its members one at a time, the dict growing
# twice on the way to a task's 20 (14% of the encoding of a task, timeit). An answer of more
# members copies a dict of its keys (one copy of a table sized for them all) and stores each
# member into it: stored past a display of 15 instead, the dict grows again at its 22nd (a
# task has 23 since the who fields; the copy: 0.81x the time, -220 instructions a task).
MOST_IN_ONE_DISPLAY = 15


def compile_encoder(
    schema_name: str,
    keys: list,
    answered: list,
    composed: list,
    owners: dict,
    positions,
    of_row: bool = False,
) -> Callable:
    """`encode(values)`: the answer for a row's values, the value of the n-th attribute (the
    plain fields in the order of `keys`, each answered as its expression in `answered` says,
    then the composed fields' sources, given as `(key, first source's attribute, field)`) at
    `positions[n]`; `owners`: the n-th attribute's owner's attribute, for the OwnersOr fields.
    `of_row`: given a row (a named tuple, SQLAlchemy's), whose values it reads from a plain
    tuple of them made first: CPython reads a plain tuple's item in a few instructions, a
    row's through the generic path (~100 each, ~30 a task; -1.5k instructions a task in all,
    callgrind). Compiled from source, as namedtuple and dataclasses make their methods: the
    keys are the schema's own names, written with repr."""
    value = [f"values[{position}]" for position in positions]
    plain = enumerate(zip(keys, answered, strict=True))
    members = {
        key: answer.format(value=value[at], owner=value[owners.get(at, at)])
        for at, (key, answer) in plain
    }
    namespace = {"utc_text": utc_text, "loads": orjson.loads}
    for number, (key, start, field) in enumerate(composed):
        sources = value[start : start + len(field.sources)]
        if field.members is not None:
            members[key] = "{" + ", ".join(map("{!r}: {}".format, field.members, sources)) + "}"
        else:
            namespace[f"composed_{number}"] = field.encode
            members[key] = f"composed_{number}({', '.join(sources)})"
        if field.null_without_first:
            members[key] = f"(None if {sources[0]} is None else {members[key]})"
    # In the order of the keys, as the JSON provider sorts them (todo/json_provider.py): it
    # then finds them sorted, ~30% of orjson's time on a 100-task page.
    ordered = [(key, members[key]) for key in sorted(members)]
    if len(ordered) <= MOST_IN_ONE_DISPLAY:
        made, stored = "{" + ", ".join(f"{key!r}: {member}" for key, member in ordered) + "}", []
    else:
        namespace["keyed"] = dict.fromkeys(key for key, _ in ordered)
        made, stored = "keyed.copy()", ordered
    stores = "".join(f"    answer[{key!r}] = {member}\n" for key, member in stored)
    header = "def encode(row):\n    values = row[:]\n" if of_row else "def encode(values):\n"
    source = f"{header}    answer = {made}\n{stores}    return answer\n"
    exec(compile(source, f"<{schema_name} encoder>", "exec"), namespace)
    return namespace["encode"]


class EncodedSchema(Schema):
    """A schema that dumps through its `RowEncoder` (built on first use)."""

    def dump(self, obj, *, many: bool | None = None):
        encoder = self.__dict__.get("_encoder") or self.__dict__.setdefault(
            "_encoder", RowEncoder(self)
        )
        return encoder.many(obj) if (self.many if many is None else many) else encoder.one(obj)
