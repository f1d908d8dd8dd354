"""What a member's feed learns of their memberships: each join, role change and end is a row
on the member's side (membership_changes), numbered with the member's own changes (the
member's users row, as any write of theirs), in the transaction that makes it. The feed
(todo/sync/shared.py) sends a join as the list and its live tasks, a role change as the
list, an end as the list and each of its tasks removed, with the end's reason.

An end keeps the ids of every task the member may hold of the list: those in it now (read
on the owner's side, before a purge or an account deletion takes them), and those that left
it, or were purged from it, since the member joined (a member who has not synced since may
hold them, and once the membership is gone no read of the owner's side is theirs)."""

import uuid

from sqlalchemy import Uuid, bindparam, insert, select, union

from ..accounts.models import users
from ..accounts.tokens import OWNER
from ..columns import utcnow
from ..extensions import db
from ..tasks.changes import TAKE_NUMBER
from ..tasks.models import purged_tasks, tasks
from .models import list_departures, membership_changes

JOINED, ROLE = "joined", "role"
# Why a membership ended, as the feed's removals say it.
REMOVED, LEFT, LIST_DELETED, OWNER_DELETED = "removed", "left", "list_deleted", "owner_deleted"
REASONS = (REMOVED, LEFT, LIST_DELETED, OWNER_DELETED)

MEMBER, THE_LIST, SINCE = "member", "the_list", "since"
OWNER_ID, LIST_ID = bindparam(OWNER, type_=Uuid), bindparam(THE_LIST, type_=Uuid)
OWNER_NUMBER = select(users.c.change_number).where(users.c.id == OWNER_ID)
# The owner's number when the member last joined the list (the member's side).
JOINED_AT = (
    select(membership_changes.c.owner_number)
    .where(
        membership_changes.c.user_id == bindparam(MEMBER, type_=Uuid),
        membership_changes.c.owner_id == OWNER_ID,
        membership_changes.c.list_id == LIST_ID,
        membership_changes.c.kind == JOINED,
    )
    .order_by(membership_changes.c.change_number.desc())
    .limit(1)
)
AFTER_JOIN = bindparam(SINCE)
# Every task the member may hold of the list: in it, or gone from it since the join (owner's
# side, one statement).
HELD_TASKS = union(
    select(tasks.c.id).where(tasks.c.user_id == OWNER_ID, tasks.c.list_id == LIST_ID),
    select(list_departures.c.task_id).where(
        list_departures.c.user_id == OWNER_ID,
        list_departures.c.list_id == LIST_ID,
        list_departures.c.change_number > AFTER_JOIN,
    ),
    select(purged_tasks.c.id).where(
        purged_tasks.c.user_id == OWNER_ID,
        purged_tasks.c.list_id == LIST_ID,
        purged_tasks.c.change_number > AFTER_JOIN,
    ),
)


def record(member_id: uuid.UUID, owner_id: uuid.UUID, list_id: uuid.UUID, kind: str, **more):
    """One change of a membership on the member's side, with the member's next number (no
    row when the member's account is going: nothing is left to tell)."""
    number = db.session.scalar(TAKE_NUMBER, {OWNER: member_id})
    if number is not None:
        row = {"user_id": member_id, "change_number": number, "owner_id": owner_id}
        row.update(list_id=list_id, kind=kind, happened_at=utcnow(), **more)
        db.session.execute(insert(membership_changes).values(**row))


def joined(member_id: uuid.UUID, owner_id: uuid.UUID, list_id: uuid.UUID) -> None:
    number = db.session.scalar(OWNER_NUMBER, {OWNER: owner_id})
    record(member_id, owner_id, list_id, JOINED, owner_number=number)


def ended(member_id: uuid.UUID, owner_id: uuid.UUID, list_id: uuid.UUID, reason: str) -> None:
    """The end of a membership, with the ids of the tasks the member may hold of the list."""
    listed = {OWNER: owner_id, THE_LIST: list_id, MEMBER: member_id}
    since = db.session.scalar(JOINED_AT, listed) or 0
    held = db.session.scalars(HELD_TASKS, {**listed, SINCE: since}).all()
    record(member_id, owner_id, list_id, reason, task_ids=sorted(str(each) for each in held))
