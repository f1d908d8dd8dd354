"""The reads of the caller's tasks: one task, and a page of a list query with how many match
and what state of the list it shows (its ETag's version)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, select

from ..accounts.store import load_account
from ..accounts.tokens import USER_GONE, Caller, TokenNotCurrent
from ..columns import utcnow
from ..database import first_row, first_value, statement_rows
from ..lists.store import ListNotFound
from ..sharing.access import checked_rows
from .listing import ME, ZONED, count_statement, page_statement, version_statement
from .models import ANSWER_ROW
from .rows import not_found, owned, ownership, run_by

READ_TASK = owned(select(*ANSWER_ROW))  # for the answer alone (models.ANSWER_ROW)


def read_task(caller: Caller, task_id: uuid.UUID) -> Row:
    task = first_row(run_by(caller, READ_TASK), ownership(caller, task_id))
    return task if task is not None else not_found(caller)


@dataclass(frozen=True, slots=True)
class Page:
    tasks: list[Row]
    total: int | None  # None: not counted
    more: bool  # another page follows the last of these tasks
    version: str  # what the page reflects: the list's ETag, with the query


def list_page(caller: Caller, query: dict, counted: bool = True) -> Page:
    """A page of the caller's tasks that match the query, how many match in all (unless not
    `counted`: an export's pages, which would count them all again for each page), and
    what state of the list it shows (`list_version`, read by the page's own statement)."""
    statement, parameters = page_statement(caller, query)
    rows = checked_rows(caller, statement, parameters)
    if not rows or rows[0].list_version is None:
        # No version: the token is not current, and TokenNotCurrent says why. Nothing found:
        # the version, read before the page again, so the ETag never claims a later state
        # than the page shows.
        load_account(caller)
        version = list_version(caller, query)
        rows = statement_rows(statement, parameters)
    if rows:
        version = rows[0].list_version
    if version is None:  # the token stopped being current since load_account read it
        load_account(caller)
        if caller.shared is not None:  # a member's: the list is not (or no longer) shared
            raise ListNotFound()
    if len(rows) <= query["limit"] and "cursor" not in query:
        return Page(rows, len(rows), False, version)  # the whole list: nothing to count
    if not counted:
        return Page(rows[: query["limit"]], None, len(rows) > query["limit"], version)
    total = first_value(*count_statement(caller, query))
    if total is None:  # the counters' row: the account was deleted meanwhile
        raise TokenNotCurrent(USER_GONE)
    return Page(rows[: query["limit"]], total, len(rows) > query["limit"], version)


def list_version(caller: Caller, query: dict) -> str | None:
    """What state of the list a page would show now (one indexed read); None if the token
    is not current."""
    return first_value(*version_statement(caller, query))


def prepared(caller: Caller, query: dict, trash_since: datetime) -> dict:
    """A list query as its schema loaded it, made ready to run: the trash's bound, `me` as
    the caller's own id (a member's, in a shared list), the zone
    its dates are read in (`tz`, else the user's, else UTC) when it needs one, and the clock
    for `overdue`."""
    if query.pop("deleted"):
        query["trash_since"] = trash_since
    if query.get("assignee") == ME:
        query["assignee"] = caller.actor_id
    zone_name = query.pop("tz", None)
    if ZONED & query.keys() or query["sort"].lstrip("-") == "due":
        query["zone"] = zone_name or load_account(caller).timezone or "UTC"
    if "overdue" in query:
        query["now"] = utcnow()
    return query
