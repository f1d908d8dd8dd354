"""What ends a membership, and what ends with it: a member removed or leaving, a list purged,
an account deleted. Each removes both sides of every membership it ends (the owner's
list_members row, the member's memberships row) and the invitee's side of every invitation,
in the transaction of what ends them; the owner's side goes with the list by its key."""

import uuid

from sqlalchemy import Uuid, bindparam, delete, select

from ..accounts.tokens import OWNER
from ..extensions import db
from ..lists.models import lists
from ..tasks import assignees
from . import events
from .models import invitations, list_invitations, list_members, memberships

LIST_IDS, MEMBER, EMAIL, INVITATION = "the_lists", "member", "the_email", "invitation"
OWNER_ID = bindparam(OWNER, type_=Uuid)
MEMBER_ID = bindparam(MEMBER, type_=Uuid)
THE_LISTS = bindparam(LIST_IDS, expanding=True)

OWNER_SIDE = delete(list_members).where(
    list_members.c.user_id == OWNER_ID,
    list_members.c.list_id == bindparam("the_list", type_=Uuid),
    list_members.c.member_id == MEMBER_ID,
)
MEMBER_SIDE = delete(memberships).where(
    memberships.c.user_id == MEMBER_ID,
    memberships.c.owner_id == OWNER_ID,
    memberships.c.list_id == bindparam("the_list", type_=Uuid),
)
INVITEE_SIDE = delete(invitations).where(
    invitations.c.email == bindparam(EMAIL),
    invitations.c.owner_id == OWNER_ID,
    invitations.c.invitation_id == bindparam(INVITATION, type_=Uuid),
)
MEMBERS_OF_LISTS = select(list_members.c.list_id, list_members.c.member_id).where(
    list_members.c.user_id == OWNER_ID, list_members.c.list_id.in_(THE_LISTS)
)
INVITATIONS_OF_LISTS = select(list_invitations.c.id, list_invitations.c.email).where(
    list_invitations.c.user_id == OWNER_ID, list_invitations.c.list_id.in_(THE_LISTS)
)
# An account's lists, locked before what shares them is read: a concurrent accept (which
# locks the list first) either lands before and is seen, or finds the list gone.
LOCK_LISTS_OF = (
    select(lists.c.id).where(lists.c.user_id == OWNER_ID).with_for_update(key_share=True)
)
MEMBERSHIPS_OF = select(memberships.c.owner_id, memberships.c.list_id).where(
    memberships.c.user_id == MEMBER_ID
)


def end_membership(
    owner_id: uuid.UUID, list_id: uuid.UUID, member_id: uuid.UUID, reason: str | None
) -> bool:
    """Remove both sides of one membership; whether there was one (on the owner's side). The
    member's feed is told why (`reason`; None: the member's own account is going)."""
    parameters = {OWNER: owner_id, "the_list": list_id, MEMBER: member_id}
    ended = db.session.execute(OWNER_SIDE, parameters).rowcount
    db.session.execute(MEMBER_SIDE, parameters)
    if ended and reason is not None:
        events.ended(member_id, owner_id, list_id, reason)
    return ended > 0


def invitation_gone(owner_id: uuid.UUID, invitation_id: uuid.UUID, email: str) -> None:
    """The invitee's side of an invitation whose owner's side is gone."""
    parameters = {OWNER: owner_id, INVITATION: invitation_id, EMAIL: email}
    db.session.execute(INVITEE_SIDE, parameters)


def lists_gone(
    owner_id: uuid.UUID, list_ids: list[uuid.UUID], reason: str = events.LIST_DELETED
) -> None:
    """Before the owner's lists are deleted for good (their rows locked): every member's side
    of their memberships, every invitee's side of their invitations."""
    if not list_ids:
        return
    parameters = {OWNER: owner_id, LIST_IDS: list_ids}
    for list_id, member_id in db.session.execute(MEMBERS_OF_LISTS, parameters).all():
        end_membership(owner_id, list_id, member_id, reason)
    for invitation_id, email in db.session.execute(INVITATIONS_OF_LISTS, parameters).all():
        invitation_gone(owner_id, invitation_id, email)


def account_gone(user_id: uuid.UUID) -> set[uuid.UUID]:
    """Before an account is deleted: what it shared ends for its members and invitees, and
    the lists shared with it lose it as a member (and the tasks there assigned to it, their
    assignee). The owners of those lists, whose data changed."""
    owned = list(db.session.scalars(LOCK_LISTS_OF, {OWNER: user_id}))
    lists_gone(user_id, owned, events.OWNER_DELETED)
    owners = set()
    for owner_id, list_id in db.session.execute(MEMBERSHIPS_OF, {MEMBER: user_id}).all():
        assignees.unassign(owner_id, list_id, user_id)
        end_membership(owner_id, list_id, user_id, None)
        owners.add(owner_id)
    return owners
