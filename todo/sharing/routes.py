"""Sharing blueprint: the owner of a list invites by email, lists, changes and removes its
members and invitations; an invitee accepts or declines; a member lists what is shared with
them and leaves. The views read the request and answer; the statements (members.py,
invitations.py) take the caller and raise, and the factory maps their errors."""

from flask import g

from ..blueprint import Blueprint
from ..holding import also_wake
from . import examples, invitations, members
from .schemas import (
    InvitationSchema,
    MemberSchema,
    MembershipSchema,
    NewInvitationSchema,
    ReceivedInvitationSchema,
    RoleChangeSchema,
)

blp = Blueprint(
    "sharing",
    __name__,
    url_prefix="/api/<user_id:user_id>",
    description="Shared lists: members, invitations (docs/sharing.md)",
    problem_examples=examples.SHARING_PROBLEMS,
)


@blp.route("/lists/<uuid:list_id>/invitations", methods=["POST"])
@blp.arguments(NewInvitationSchema(), examples=examples.NEW_INVITATION)
@blp.response(201, InvitationSchema)
@blp.problems(400, 401, 403, 404, 413, 415, 429, 503, examples=examples.NEW_INVITATION_PROBLEMS)
def invite_to_list(fields, user_id, list_id):
    """Invite someone to one of your lists by email, as an editor or a viewer.

    The answer is the same whether or not an account has that email: the invitation waits
    for one, also one made later. Inviting a pending email again gives it the new role. At
    most 25 members and pending invitations per list (422, /problems/too-many-members);
    invitations per account per day are limited (`RATELIMIT_INVITATIONS_PER_OWNER`, 429).
    """
    return invitations.invite(g.caller, list_id, fields["email"], fields["role"])


@blp.route("/lists/<uuid:list_id>/invitations", methods=["GET"])
@blp.response(200, InvitationSchema(many=True))
@blp.problems(401, 403, 404, 503)
def list_invitations(user_id, list_id):
    """List the pending invitations to one of your lists.

    Oldest first; at most 25 (with the members).
    """
    return invitations.pending_of(g.caller, list_id)


@blp.route("/lists/<uuid:list_id>/invitations/<uuid:invitation_id>", methods=["DELETE"])
@blp.response(204)
@blp.problems(401, 403, 404, 503)
def cancel_invitation(user_id, list_id, invitation_id):
    """Cancel a pending invitation to one of your lists.

    The invitee no longer finds it among their invitations.
    """
    invitations.cancel(g.caller, list_id, invitation_id)


@blp.route("/lists/<uuid:list_id>/members", methods=["GET"])
@blp.response(200, MemberSchema(many=True))
@blp.problems(401, 403, 404, 503)
def list_members(user_id, list_id):
    """List the members of one of your lists.

    Oldest first, each with their role; at most 25 (with the pending invitations).
    """
    return members.members_of(g.caller, list_id)


@blp.route("/lists/<uuid:list_id>/members/<uuid:member_id>", methods=["PATCH"])
@blp.arguments(RoleChangeSchema(), examples=examples.ROLE_CHANGE)
@blp.response(200, MemberSchema)
@blp.problems(400, 401, 403, 404, 413, 415, 503, examples=examples.ROLE_CHANGE_PROBLEMS)
def change_member_role(fields, user_id, list_id, member_id):
    """Change a member's role in one of your lists.

    It holds from the member's next request on.
    """
    return members.change_role(g.caller, list_id, member_id, fields["role"])


@blp.route("/lists/<uuid:list_id>/members/<uuid:member_id>", methods=["DELETE"])
@blp.response(204)
@blp.problems(401, 403, 404, 503)
def remove_member(user_id, list_id, member_id):
    """Remove a member from one of your lists.

    Their very next request to the list is refused.
    """
    members.remove_member(g.caller, list_id, member_id)


@blp.route("/invitations", methods=["GET"])
@blp.response(200, ReceivedInvitationSchema(many=True))
@blp.problems(401, 403, 503)
def list_my_invitations(user_id):
    """List the invitations waiting for your account's email.

    Oldest first, with who invites you, to which list and with which role.
    """
    return invitations.mine(g.caller)


@blp.route("/invitations/<uuid:invitation_id>/accept", methods=["POST"])
@blp.response(204)
@blp.problems(401, 403, 404, 503, examples=examples.ACCEPT_PROBLEMS)
def accept_invitation(user_id, invitation_id):
    """Accept an invitation: the list is shared with you.

    It appears among your lists with its owner and your role, and your change feed brings
    it with its tasks. 404 once the owner cancelled it or deleted the list; 422
    (/problems/too-many-shared-lists) when 100 lists are shared with you already.
    """
    invitations.answer(g.caller, invitation_id, accepted=True)


@blp.route("/invitations/<uuid:invitation_id>/decline", methods=["POST"])
@blp.response(204)
@blp.problems(401, 403, 404, 503)
def decline_invitation(user_id, invitation_id):
    """Decline an invitation.

    It is gone from your invitations and from the owner's.
    """
    invitations.answer(g.caller, invitation_id, accepted=False)


@blp.route("/memberships", methods=["GET"])
@blp.response(200, MembershipSchema(many=True))
@blp.problems(401, 403, 503)
def list_memberships(user_id):
    """List the lists of other users shared with you.

    Each with its owner and your role (the lists themselves are among your lists).
    """
    return members.shared_with(g.caller)


@blp.route("/memberships/<uuid:owner_id>/<uuid:list_id>", methods=["DELETE"])
@blp.response(204)
@blp.problems(401, 403, 404, 503)
def leave_list(user_id, owner_id, list_id):
    """Leave a list shared with you.

    It is no longer among your lists; the owner's members no longer name you.
    """
    members.leave(g.caller, owner_id, list_id)
    also_wake([owner_id])  # its assignments there were unassigned
