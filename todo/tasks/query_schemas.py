"""The task list's query: filters, sorts, pages (keyset cursors), and the delete's."""

import uuid

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ..fields import CalendarDate, QueryBoolean, QueryInteger, Text
from ..labels.names import MOST_PER_TASK
from ..labels.schemas import LabelName
from .listing import ME, SORTS, TRASH_SORTS, UNASSIGNED, position
from .newer_schemas import ZONE_EXAMPLE, ZoneName


def page_size() -> QueryInteger:
    return QueryInteger(
        load_default=100,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "Page size"},
    )


class TaskCursor(fields.String):
    """Decodes a list cursor to (sort, value, id); anything this API did not issue is refused."""

    default_error_messages = {"invalid": "Not a valid cursor: use the Link of the previous page."}

    def _deserialize(self, value, attr, data, **kwargs):
        token = super()._deserialize(value, attr, data, **kwargs)
        try:
            return position(token)
        except (ValueError, TypeError, AttributeError) as error:
            raise self.make_error("invalid") from error


INBOX, TOP_LEVEL = "inbox", "none"


class IdFilter(fields.String):
    """An id, or a word that stands for one or for none (`inbox`: in no list, `none`: no
    parent or no assignee, `me`: the caller)."""

    default_error_messages = {"invalid": "Not an id, nor {words}."}

    def __init__(self, *words: str, **kwargs):
        super().__init__(**kwargs)
        self.words = words

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text in self.words:
            return text
        try:
            return uuid.UUID(text)
        except ValueError:
            words = " nor ".join(f"`{word}`" for word in self.words)
            raise self.make_error("invalid", words=words) from None


class DeleteQuerySchema(Schema):
    purge = QueryBoolean(
        load_default=False, metadata={"description": "true: delete for good, not to the trash"}
    )


class ListQuerySchema(Schema):
    deleted = QueryBoolean(
        load_default=False,
        metadata={"description": "true: the trash instead (newest deletion first by default)"},
    )
    completed = QueryBoolean(metadata={"description": "Only done, or only open, tasks"})
    list_id = IdFilter(
        INBOX, metadata={"description": "Only the tasks of this list; inbox: those in no list"}
    )
    parent_id = IdFilter(
        TOP_LEVEL,
        metadata={"description": "Only the subtasks of this task; none: only top-level tasks"},
    )
    assignee = IdFilter(
        ME,
        TOP_LEVEL,
        metadata={
            "description": "Only the tasks assigned to this user; me: to the caller (a member "
            "too, in a shared list); none: to nobody"
        },
    )
    label = fields.List(
        LabelName(),
        validate=validate.Length(max=MOST_PER_TASK),
        metadata={
            "description": "Only tasks carrying this label (repeated: every one of them); "
            "case and width do not matter"
        },
    )
    q = Text(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Case-insensitive substring of the title or description"},
    )
    sort = fields.String(
        validate=validate.OneOf(SORTS + TRASH_SORTS),
        metadata={
            "description": "Order of the list (a leading - for descending); ties are broken by "
            "id. Default: created_at; in the trash, -deleted_at (deleted_at sorts only there). "
            "due: earliest first on the wall clocks of tz, an all-day date before the "
            "times of its day, tasks without one last; completed_at: open tasks last; the "
            "descending orders are the exact reverse",
            "x-enum-varnames": [
                sort.lstrip("-").upper() + ("_DESC" if sort.startswith("-") else "")
                for sort in SORTS + TRASH_SORTS
            ],
        },
    )
    has_due = QueryBoolean(metadata={"description": "Only tasks with, or without, a due date"})
    due_from = CalendarDate(
        metadata={
            "description": "Due on or after this local date (zoned due dates placed in tz)",
            "example": "2026-12-01",
        }
    )
    due_to = CalendarDate(
        metadata={
            "description": "Due on or before this local date (zoned due dates placed in tz)",
            "example": "2026-12-31",
        }
    )
    overdue = QueryBoolean(
        metadata={
            "description": "true: only overdue tasks (an all-day date before today in tz, "
            "a zoned instant before now, a floating wall time before now in tz); false: "
            "only the others. Such a list depends on the clock: it has no ETag"
        }
    )
    completed_from = CalendarDate(
        metadata={"description": "Completed on or after this local date (in tz)"}
    )
    completed_to = CalendarDate(
        metadata={"description": "Completed on or before this local date (in tz)"}
    )
    tz = ZoneName(
        metadata={
            "description": "The IANA zone that local dates, today and the due order are read "
            "in; default: the user's zone (GET /api/auth/me), else UTC",
            "example": ZONE_EXAMPLE,
        }
    )
    limit = page_size()
    cursor = TaskCursor(
        metadata={"description": "Where the page starts: from the previous page's Link"}
    )

    @validates_schema
    def sort_fits_the_list(self, data, **kwargs):
        sort = data.get("sort") or default_sort(data)
        if sort in TRASH_SORTS and not data["deleted"]:
            raise ValidationError("Sort by deleted_at only in the trash (deleted=true).", "sort")
        if "cursor" in data and data["cursor"][0] != sort:
            raise ValidationError("This cursor belongs to another sort order.", "cursor")

    @post_load
    def sort_by_default(self, data, **kwargs):
        data.setdefault("sort", default_sort(data))
        for name, word in (("list_id", INBOX), ("parent_id", TOP_LEVEL)):
            if data.get(name) == word:
                data[word] = data.pop(name)
        if data.get("assignee") == TOP_LEVEL:
            data[UNASSIGNED] = data.pop("assignee")
        return data


def default_sort(query: dict) -> str:
    return "-deleted_at" if query["deleted"] else "created_at"
