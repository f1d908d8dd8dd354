"""The lists shared with a member, as the member's list of lists shows them: read from each
owner's side (the owner's lists joined with the owner's list_members, one statement per owner,
on the owner's shard), so a list shows only while the owner's side names the member; and
what the lists' ETag follows for them (the memberships and each owner's change number)."""

import hashlib
import uuid

from sqlalchemy import Row, select

from ..accounts.models import users
from ..accounts.tokens import OWNER, Caller
from ..extensions import db
from ..lists.models import lists
from ..lists.store import COUNTED_ROW, LIVE, ListNotFound
from . import access
from .access import LIST_ID, MEMBER, MEMBER_ID, MEMBERSHIPS_OF, OWNER_ID, THE_LIST
from .models import list_members

SHARED_ROW = (
    *(column for column in COUNTED_ROW if column.name != "role"),
    list_members.c.role.label("role"),
)
SHARED_LISTS = (
    select(*SHARED_ROW)
    .select_from(access.LISTS_AND_MEMBERS)
    .where(
        lists.c.user_id == OWNER_ID,
        list_members.c.user_id == OWNER_ID,
        list_members.c.member_id == MEMBER_ID,
        LIVE,
    )
    .order_by(lists.c.position, lists.c.id)
)
SHARED_LIST = SHARED_LISTS.where(lists.c.id == THE_LIST)
OWNER_NUMBER = select(users.c.change_number).where(users.c.id == OWNER_ID)


def owners_of(caller: Caller) -> list[uuid.UUID]:
    """The users who share a list with the caller (the member's side), in order."""
    rows = db.session.execute(MEMBERSHIPS_OF, {MEMBER: caller.actor_id}).all()
    return sorted({row.owner_id for row in rows})


def shared_lists(caller: Caller) -> list[Row]:
    """The live lists shared with the caller, owner by owner, each in its owner's order."""
    found = []
    for owner_id in owners_of(caller):
        parameters = {OWNER: owner_id, MEMBER: caller.actor_id}
        found += db.session.execute(SHARED_LISTS, parameters).all()
    return found


def shared_list(caller: Caller, list_id: uuid.UUID) -> Row:
    """One live list of the space shared with the caller, with the caller's role in it."""
    parameters = {OWNER: caller.space_id, MEMBER: caller.actor_id, LIST_ID: list_id}
    found = db.session.execute(SHARED_LIST, parameters).first()
    if found is None:
        raise ListNotFound()
    return found


def shared_state(caller: Caller) -> str:
    """What the caller's lists' ETag follows of the lists shared with them: which they are,
    with which role, and each owner's change number (which moves with any change to the
    owner's lists or tasks). Empty when nothing is shared with the caller."""
    rows = db.session.execute(MEMBERSHIPS_OF, {MEMBER: caller.actor_id}).all()
    if not rows:
        return ""
    parts = [f"{row.owner_id}/{row.list_id}/{row.role}" for row in rows]
    for owner_id in sorted({row.owner_id for row in rows}):
        parts.append(f"{owner_id}:{db.session.scalar(OWNER_NUMBER, {OWNER: owner_id})}")
    return hashlib.blake2b(" ".join(parts).encode(), digest_size=8).hexdigest()
