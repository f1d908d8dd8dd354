"""The task list's query: filters, sort orders and keyset cursors (a deep page costs what the
first one does: it starts where the last row of the previous page sorts, through an index)."""

import base64
import binascii
import json
import uuid
from datetime import datetime
from functools import cache
from urllib.parse import urlencode

from flask import request
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import (
    Boolean,
    Integer,
    Select,
    String,
    Uuid,
    bindparam,
    case,
    func,
    or_,
    select,
    tuple_,
)

from .fields import QueryInteger, Text, storable
from .models import TASK_ROW, tasks, users
from .tokens import TOKEN_IS_CURRENT

SORTS = ["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title"]
TIMESTAMP_SORTS = {"created_at", "updated_at"}


def encode_cursor(sort: str, task) -> str:
    """The position after `task` in `sort` order, as an opaque URL-safe token."""
    column = sort.lstrip("-")
    value = getattr(task, column)
    if column in TIMESTAMP_SORTS:
        value = value.isoformat()
    raw = json.dumps([sort, value, str(task.id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Cursor(fields.String):
    """Decodes a cursor to (sort, value, id); anything this API did not issue is refused."""

    default_error_messages = {"invalid": "Not a valid cursor: use the Link of the previous page."}

    def _deserialize(self, value, attr, data, **kwargs):
        token = super()._deserialize(value, attr, data, **kwargs)
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            sort, position, task_id = json.loads(raw)
            if sort not in SORTS or not isinstance(position, str) or not storable(position):
                raise ValueError(sort)
            if sort.lstrip("-") in TIMESTAMP_SORTS:
                position = datetime.fromisoformat(position)
            return sort, position, uuid.UUID(task_id)
        except (binascii.Error, ValueError, TypeError, AttributeError, RecursionError) as error:
            raise self.make_error("invalid") from error


class ListQuerySchema(Schema):
    completed = fields.Boolean(
        truthy={"true"}, falsy={"false"}, metadata={"description": "Only done, or only open, tasks"}
    )
    q = Text(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Case-insensitive substring of the title or description"},
    )
    sort = fields.String(
        load_default="created_at",
        validate=validate.OneOf(SORTS),
        metadata={
            "description": "Order of the list (a leading - for descending); ties are broken by id",
            "x-enum-varnames": [
                sort.lstrip("-").upper() + ("_DESC" if sort.startswith("-") else "")
                for sort in SORTS
            ],
        },
    )
    limit = QueryInteger(
        load_default=100,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "Page size"},
    )
    cursor = Cursor(
        metadata={"description": "Where the page starts: from the previous page's Link"}
    )

    @validates_schema
    def cursor_matches_sort(self, data, **kwargs):
        if "cursor" in data and data["cursor"][0] != data["sort"]:
            raise ValidationError("This cursor belongs to another sort order.", "cursor")


def escape_like(text: str) -> str:
    """`text` as a LIKE pattern that matches it anywhere, its own % and _ taken literally."""
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def filtered(statement: Select, by_completed: bool, by_text: bool) -> Select:
    """The user's tasks that match the filters in use; values come as bound parameters."""
    statement = statement.where(tasks.c.user_id == bindparam("owner", type_=Uuid))
    if by_completed:
        statement = statement.where(tasks.c.completed == bindparam("completed", type_=Boolean))
    if by_text:
        pattern = bindparam("pattern", type_=String)
        statement = statement.where(
            or_(
                tasks.c.title.ilike(pattern, escape="/"),
                func.coalesce(tasks.c.description, "").ilike(pattern, escape="/"),
            )
        )
    return statement


# Each shape of list query is built once and reused: only the parameters change per request.
@cache
def page_shape(sort: str, after_cursor: bool, by_completed: bool, by_text: bool) -> Select:
    """One page (plus one row, to tell whether another page follows) in the asked order, while
    the token is current (else no rows)."""
    key = (tasks.c[sort.lstrip("-")], tasks.c.id)
    descending = sort.startswith("-")
    statement = filtered(select(*TASK_ROW).where(TOKEN_IS_CURRENT), by_completed, by_text)
    if after_cursor:
        bound = tuple_(*key)
        after = tuple_(
            bindparam("after_value", type_=key[0].type), bindparam("after_id", type_=Uuid)
        )
        statement = statement.where(bound < after if descending else bound > after)
    order = [column.desc() if descending else column.asc() for column in key]
    return statement.order_by(*order).limit(bindparam("limit", type_=Integer))


@cache
def count_shape(by_completed: bool, by_text: bool) -> Select:
    """How many tasks match the filters. Without a search, the user's counters answer (kept
    by triggers, migration 0005): one row read, whatever the number of tasks. A search is
    counted, in the time its page takes to find anyway."""
    if by_text:
        return filtered(select(func.count()).select_from(tasks), by_completed, by_text)
    count = users.c.task_count
    if by_completed:
        done = bindparam("completed", type_=Boolean)
        count = case((done, users.c.completed_count), else_=count - users.c.completed_count)
    return select(count).where(users.c.id == bindparam("owner", type_=Uuid))


def page_statement(token: dict, query: dict) -> tuple[Select, dict]:
    """The statement for this page of the list, and its parameters (`token`: the token's
    parameters, todo/tokens.py)."""
    statement = page_shape(query["sort"], "cursor" in query, "completed" in query, "q" in query)
    parameters = {**token, **filter_parameters(token["owner"], query), "limit": query["limit"] + 1}
    if "cursor" in query:
        _, parameters["after_value"], parameters["after_id"] = query["cursor"]
    return statement, parameters


def count_statement(user_id: uuid.UUID, query: dict) -> tuple[Select, dict]:
    statement = count_shape("completed" in query, "q" in query)
    return statement, filter_parameters(user_id, query)


def filter_parameters(user_id: uuid.UUID, query: dict) -> dict:
    parameters = {"owner": user_id}
    if "completed" in query:
        parameters["completed"] = query["completed"]
    if "q" in query:
        parameters["pattern"] = escape_like(query["q"])
    return parameters


def next_link(query: dict, last) -> str:
    """`<url>; rel="next"` for the page after `last`, keeping every other parameter."""
    params = {key: value for key, value in request.args.items() if key != "cursor"}
    params["cursor"] = encode_cursor(query["sort"], last)
    return f'<{request.base_url}?{urlencode(params)}>; rel="next"'
