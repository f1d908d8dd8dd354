"""Invitations to a shared list: the owner invites an email with a role, lists and cancels
them; whoever has (or later signs up with) that email lists theirs, accepts or declines.

An invitation is written on both sides in one transaction: the owner's row and the email's
lookup row. Inviting never looks at whether the email has an account, so its answer cannot
tell (no enumeration); the invitation simply waits. Every change locks the owner's list row
first, so a list never passes MOST_MEMBERS, and an accept never meets a concurrent cancel
or removal halfway."""

import uuid

from sqlalchemy import Row, bindparam, delete, func, insert, select, update

from ..accounts.store import load_account
from ..accounts.tokens import OWNER, Caller
from ..columns import utcnow
from ..database import transaction
from ..extensions import db
from ..throttles import INVITATIONS_PER_OWNER, attempt
from . import access, endings, members
from .access import OWNER_ID, THE_LIST, OwnListInvitation
from .endings import EMAIL, INVITATION
from .models import MOST_MEMBERS, invitations, list_invitations, list_members

INVITATION_ID = bindparam(INVITATION)
THE_EMAIL = bindparam(EMAIL)
INVITATION_ROW = (
    list_invitations.c.id,
    list_invitations.c.list_id,
    list_invitations.c.email,
    list_invitations.c.role,
    list_invitations.c.created_at,
)
OF_LIST = (list_invitations.c.user_id == OWNER_ID, list_invitations.c.list_id == THE_LIST)
PENDING_OF_LIST = (
    select(*INVITATION_ROW)
    .where(*OF_LIST)
    .order_by(list_invitations.c.created_at, list_invitations.c.id)
)
ONE_INVITATION = select(*INVITATION_ROW).where(
    list_invitations.c.user_id == OWNER_ID, list_invitations.c.id == INVITATION_ID
)
PENDING_FOR_EMAIL = select(*INVITATION_ROW).where(*OF_LIST, list_invitations.c.email == THE_EMAIL)
MEMBER_COUNT = select(func.count()).where(
    list_members.c.user_id == OWNER_ID, list_members.c.list_id == THE_LIST
)
INVITATION_COUNT = select(func.count()).where(*OF_LIST)
CANCEL = (
    delete(list_invitations)
    .where(list_invitations.c.user_id == OWNER_ID, list_invitations.c.id == INVITATION_ID)
    .returning(list_invitations.c.email, list_invitations.c.list_id, list_invitations.c.role)
)
MINE = (
    select(invitations)
    .where(invitations.c.email == THE_EMAIL)
    .order_by(invitations.c.created_at, invitations.c.invitation_id)
)
ONE_OF_MINE = select(invitations).where(
    invitations.c.email == THE_EMAIL, invitations.c.invitation_id == INVITATION_ID
)


class InvitationNotFound(Exception):
    def __init__(self):
        super().__init__("Invitation not found")


class TooManyMembers(Exception):
    def __init__(self):
        super().__init__(
            f"A list has at most {MOST_MEMBERS} members and pending invitations: remove one "
            "or cancel an invitation first."
        )


def invite(caller: Caller, list_id: uuid.UUID, email: str, role: str) -> Row:
    """Invite `email` to the caller's list with `role` (again: the pending invitation takes
    the new role). Counted against the owner's daily invitations (Throttled past them)."""
    with attempt((INVITATIONS_PER_OWNER, str(caller.actor_id))) as counted:
        with transaction():
            shared = access.lock_own_list(caller, list_id)
            parameters = {**access.listed(caller.space_id, list_id), EMAIL: email}
            pending = db.session.execute(PENDING_FOR_EMAIL, parameters).first()
            if pending is not None:
                answer = reinvited(caller, pending, role)
            else:
                taken = db.session.scalar(MEMBER_COUNT, parameters)
                taken += db.session.scalar(INVITATION_COUNT, parameters)
                if taken >= MOST_MEMBERS:
                    raise TooManyMembers()
                answer = invited(caller, shared, email, role)
        counted.keep()
    return answer


def invited(caller: Caller, shared: Row, email: str, role: str) -> Row:
    row = {"id": uuid.uuid4(), "list_id": shared.id, "email": email, "role": role}
    row["created_at"] = utcnow()
    owner = load_account(caller)
    db.session.execute(insert(list_invitations).values(user_id=caller.space_id, **row))
    db.session.execute(
        insert(invitations).values(
            email=email,
            owner_id=caller.space_id,
            invitation_id=row["id"],
            list_id=shared.id,
            role=role,
            owner_email=owner.email,
            list_name=shared.name,
            created_at=row["created_at"],
        )
    )
    return read_invitation(caller, row["id"])


def read_invitation(caller: Caller, invitation_id: uuid.UUID) -> Row:
    return db.session.execute(
        ONE_INVITATION, {OWNER: caller.space_id, INVITATION: invitation_id}
    ).one()


def reinvited(caller: Caller, pending: Row, role: str) -> Row:
    """A pending invitation with a new role, on both sides."""
    parameters = {OWNER: caller.space_id, INVITATION: pending.id, EMAIL: pending.email}
    db.session.execute(
        update(list_invitations)
        .where(list_invitations.c.user_id == OWNER_ID, list_invitations.c.id == INVITATION_ID)
        .values(role=role),
        parameters,
    )
    db.session.execute(
        update(invitations)
        .where(
            invitations.c.email == THE_EMAIL,
            invitations.c.owner_id == OWNER_ID,
            invitations.c.invitation_id == INVITATION_ID,
        )
        .values(role=role),
        parameters,
    )
    return read_invitation(caller, pending.id)


def pending_of(caller: Caller, list_id: uuid.UUID) -> list[Row]:
    """The pending invitations to one of the caller's live lists, oldest first."""
    access.own_list(caller, list_id)
    return db.session.execute(PENDING_OF_LIST, access.listed(caller.space_id, list_id)).all()


def cancel(caller: Caller, list_id: uuid.UUID, invitation_id: uuid.UUID) -> None:
    """Cancel a pending invitation to the caller's list: both sides."""
    with transaction():
        access.lock_own_list(caller, list_id)
        parameters = {OWNER: caller.space_id, INVITATION: invitation_id}
        cancelled = db.session.execute(CANCEL, parameters).first()
        if cancelled is None or cancelled.list_id != list_id:
            raise InvitationNotFound()
        endings.invitation_gone(caller.space_id, invitation_id, cancelled.email)


def mine(caller: Caller) -> list[Row]:
    """The invitations waiting for the caller's email, oldest first."""
    return db.session.execute(MINE, {EMAIL: load_account(caller).email}).all()


def answer(caller: Caller, invitation_id: uuid.UUID, accepted: bool) -> None:
    """Accept (become a member with the invitation's role) or decline an invitation to the
    caller's email; either way it is gone. InvitationNotFound if it was cancelled, or its
    list purged, meanwhile."""
    with transaction():
        email = load_account(caller).email
        found = db.session.execute(ONE_OF_MINE, {EMAIL: email, INVITATION: invitation_id}).first()
        if found is None:
            raise InvitationNotFound()
        if accepted and found.owner_id == caller.actor_id:
            raise OwnListInvitation()
        shared = access.lock_list_of(found.owner_id, found.list_id)
        parameters = {OWNER: found.owner_id, INVITATION: invitation_id}
        taken = db.session.execute(CANCEL, parameters).first()
        if taken is None or shared is None:
            raise InvitationNotFound()
        endings.invitation_gone(found.owner_id, invitation_id, email)
        if accepted:
            members.join(found.owner_id, found.list_id, caller.actor_id, taken.role)
