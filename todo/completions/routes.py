"""Completions blueprint, under /api/<user_id>/: the history of a user's completions. The view
reads the request and answers; the reads (store.py) take the caller and raise."""

from flask import g
from marshmallow import RAISE

from .. import cursors
from ..accounts.store import load_account
from ..blueprint import NEXT_LINK_HEADER, Blueprint, next_page_link
from ..tasks import due
from . import store
from .schemas import CompletionEntrySchema, CompletionsQuerySchema

blp = Blueprint(
    "completions",
    __name__,
    url_prefix="/api/<user_id:user_id>/completions",
    description="When each task was completed",
)


@blp.route("", methods=["GET"])
@blp.arguments(CompletionsQuerySchema(), location="query", unknown=RAISE, error_status_code=400)
@blp.response(200, CompletionEntrySchema(many=True), headers=NEXT_LINK_HEADER)
@blp.problems(401, 403, 503)
def list_completions(query, user_id):
    """List the completions of the user's tasks, newest first, a page at a time.

    One entry per completion, with the title the task had then and the occurrence it was due
    on; reopening a task removes its latest entry. Follow the Link header's `rel="next"`.
    """
    zone_name = None
    if "from" in query or "to" in query:
        zone_name = query.get("tz") or load_account(g.caller).timezone or "UTC"
    entries, more = store.completions_page(
        g.caller,
        query["limit"],
        since=due.day_start(query["from"], zone_name) if "from" in query else None,
        until=due.day_after_start(query["to"], zone_name) if "to" in query else None,
        task_id=query.get("task_id"),
        after=query.get("cursor"),
    )
    if not more:
        return entries
    last = entries[-1]
    cursor = cursors.encode([last.completed_at.isoformat(), last.id])
    return entries, {"Link": next_page_link(cursor)}
