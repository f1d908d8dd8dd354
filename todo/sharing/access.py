"""Who may do what with a list: its owner everything, a member what its role allows. Read in
the transaction of the change it allows, with the owner's list row locked (FOR NO KEY UPDATE:
it does not block the task writes that only reference the row), so every membership change
of one list is serialised on that row and no permission outlives a removal."""

import uuid

from sqlalchemy import Row, Uuid, bindparam, select

from ..accounts.tokens import OWNER, TOKEN_IS_CURRENT, Caller
from ..extensions import db
from ..lists.models import lists
from ..lists.store import not_found
from .models import list_members, memberships

LIST_ID, MEMBER = "the_list", "member"
OWNER_ID = bindparam(OWNER, type_=Uuid)
THE_LIST = bindparam(LIST_ID, type_=Uuid)
MEMBER_ID = bindparam(MEMBER, type_=Uuid)


class MemberNotFound(Exception):
    def __init__(self):
        super().__init__("Member not found")


class OwnListInvitation(Exception):
    def __init__(self):
        super().__init__("This invitation is to a list of your own.")


# The owner's list, live and locked, while the owner's token is current.
LOCK_OWN_LIST = (
    select(lists.c.id, lists.c.name)
    .where(lists.c.user_id == OWNER_ID, lists.c.id == THE_LIST, lists.c.deleted_at.is_(None))
    .where(TOKEN_IS_CURRENT)
    .with_for_update(key_share=True)
)
OWN_LIST = (
    select(lists.c.id)
    .where(lists.c.user_id == OWNER_ID, lists.c.id == THE_LIST, lists.c.deleted_at.is_(None))
    .where(TOKEN_IS_CURRENT)
)
# The owner's list, locked, for a change a member makes (the member's token is checked on
# the member's own row): live or in the trash; None once purged.
LOCK_LIST_OF_OWNER = (
    select(lists.c.id, lists.c.deleted_at)
    .where(lists.c.user_id == OWNER_ID, lists.c.id == THE_LIST)
    .with_for_update(key_share=True)
)
# A member's role, read on the owner's side (where the owner's changes are made first).
ROLE_OF_MEMBER = select(list_members.c.role).where(
    list_members.c.user_id == OWNER_ID,
    list_members.c.list_id == THE_LIST,
    list_members.c.member_id == MEMBER_ID,
)
# What is shared with a member, read on the member's side.
MEMBERSHIPS_OF = (
    select(memberships)
    .where(memberships.c.user_id == MEMBER_ID)
    .order_by(memberships.c.owner_id, memberships.c.list_id)
)


def listed(owner_id: uuid.UUID, list_id: uuid.UUID, **more) -> dict:
    return {OWNER: owner_id, LIST_ID: list_id, **more}


def lock_own_list(caller: Caller, list_id: uuid.UUID) -> Row:
    """The caller's own live list, locked to the end of the transaction; ListNotFound (or
    TokenNotCurrent) otherwise."""
    found = db.session.execute(LOCK_OWN_LIST, {**caller.parameters, LIST_ID: list_id}).first()
    return found if found is not None else not_found(caller)


def own_list(caller: Caller, list_id: uuid.UUID) -> None:
    """ListNotFound (or TokenNotCurrent) unless the list is the caller's and live."""
    if db.session.execute(OWN_LIST, {**caller.parameters, LIST_ID: list_id}).first() is None:
        not_found(caller)


def lock_list_of(owner_id: uuid.UUID, list_id: uuid.UUID) -> Row | None:
    """Another user's list, locked for a member's change; None once it is purged."""
    return db.session.execute(LOCK_LIST_OF_OWNER, listed(owner_id, list_id)).first()


def role_of(owner_id: uuid.UUID, list_id: uuid.UUID, member_id: uuid.UUID) -> str | None:
    """The member's role in the owner's list, from the owner's side; None: not a member."""
    parameters = listed(owner_id, list_id, **{MEMBER: member_id})
    return db.session.scalar(ROLE_OF_MEMBER, parameters)
