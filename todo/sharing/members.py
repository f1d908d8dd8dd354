"""Members of a shared list, from both sides: the owner lists them, changes a role, removes
one; a member lists what is shared with them and leaves. Every change locks the owner's list
row first and writes both sides in one transaction."""

import uuid

from sqlalchemy import Row, bindparam, func, insert, select, update

from ..accounts.store import load_account
from ..accounts.tokens import Caller
from ..columns import utcnow
from ..database import transaction
from ..extensions import db
from ..tasks import assignees
from . import access, endings, events
from .access import MEMBER, MEMBER_ID, OWNER_ID, THE_LIST, MemberNotFound
from .models import MOST_SHARED, list_members, memberships

NEW_ROLE = "new_role"
MEMBER_ROW = (list_members.c.member_id, list_members.c.role, list_members.c.created_at)
MEMBERS = (
    select(*MEMBER_ROW)
    .where(list_members.c.user_id == OWNER_ID, list_members.c.list_id == THE_LIST)
    .order_by(list_members.c.created_at, list_members.c.member_id)
)
ROLE = bindparam(NEW_ROLE, type_=list_members.c.role.type)
OWNER_SIDE_ROLE = (
    update(list_members)
    .where(
        list_members.c.user_id == OWNER_ID,
        list_members.c.list_id == THE_LIST,
        list_members.c.member_id == MEMBER_ID,
    )
    .values(role=ROLE)
    .returning(*MEMBER_ROW)
)
MEMBER_SIDE_ROLE = (
    update(memberships)
    .where(
        memberships.c.user_id == MEMBER_ID,
        memberships.c.owner_id == OWNER_ID,
        memberships.c.list_id == THE_LIST,
    )
    .values(role=ROLE)
)


SHARED_COUNT = select(func.count()).where(memberships.c.user_id == MEMBER_ID)


class TooManySharedLists(Exception):
    def __init__(self):
        super().__init__(
            f"At most {MOST_SHARED} lists may be shared with one account: leave one first."
        )


class MembershipNotFound(Exception):
    def __init__(self):
        super().__init__("Membership not found")


def members_of(caller: Caller, list_id: uuid.UUID) -> list[Row]:
    """The members of one of the caller's live lists, oldest first."""
    access.own_list(caller, list_id)
    return db.session.execute(MEMBERS, access.listed(caller.space_id, list_id)).all()


def set_role(owner_id: uuid.UUID, list_id: uuid.UUID, member_id: uuid.UUID, role: str):
    """A member's role on both sides (the owner's list locked); the owner's row, or None."""
    parameters = access.listed(owner_id, list_id, **{MEMBER: member_id, NEW_ROLE: role})
    changed = db.session.execute(OWNER_SIDE_ROLE, parameters).first()
    db.session.execute(MEMBER_SIDE_ROLE, parameters)
    return changed


def change_role(caller: Caller, list_id: uuid.UUID, member_id: uuid.UUID, role: str) -> Row:
    """Give a member of the caller's list another role, on both sides."""
    with transaction():
        access.lock_own_list(caller, list_id)
        changed = set_role(caller.space_id, list_id, member_id, role)
        if changed is None:
            raise MemberNotFound()
        events.record(member_id, caller.space_id, list_id, events.ROLE)
        return changed


def remove_member(caller: Caller, list_id: uuid.UUID, member_id: uuid.UUID) -> None:
    """Remove a member from the caller's list: both sides, at once."""
    with transaction():
        access.lock_own_list(caller, list_id)
        assignees.unassign(caller.space_id, list_id, member_id)
        if not endings.end_membership(caller.space_id, list_id, member_id, events.REMOVED):
            raise MemberNotFound()


def shared_with(caller: Caller) -> list[Row]:
    """The lists shared with the caller (the member's side)."""
    load_account(caller)
    return db.session.execute(access.MEMBERSHIPS_OF, {MEMBER: caller.actor_id}).all()


def leave(caller: Caller, owner_id: uuid.UUID, list_id: uuid.UUID) -> None:
    """The caller stops being a member of another user's list: both sides, at once."""
    with transaction():
        load_account(caller)
        access.lock_list_of(owner_id, list_id)
        assignees.unassign(owner_id, list_id, caller.actor_id)
        if not endings.end_membership(owner_id, list_id, caller.actor_id, events.LEFT):
            raise MembershipNotFound()


def join(owner_id: uuid.UUID, list_id: uuid.UUID, member_id: uuid.UUID, role: str) -> None:
    """Both sides of a membership (the owner's list locked by the caller): a new one, or the
    role of one that exists. TooManySharedLists past MOST_SHARED lists shared with the
    member."""
    if set_role(owner_id, list_id, member_id, role) is not None:
        events.record(member_id, owner_id, list_id, events.ROLE)
        return
    if db.session.scalar(SHARED_COUNT, {MEMBER: member_id}) >= MOST_SHARED:
        raise TooManySharedLists()
    now = utcnow()
    db.session.execute(
        insert(list_members).values(
            user_id=owner_id, list_id=list_id, member_id=member_id, role=role, created_at=now
        )
    )
    db.session.execute(
        insert(memberships).values(
            user_id=member_id, owner_id=owner_id, list_id=list_id, role=role, created_at=now
        )
    )
    events.joined(member_id, owner_id, list_id)
