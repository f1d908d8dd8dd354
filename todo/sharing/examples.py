"""What the sharing routes' documentation shows: request bodies that work as they are in
/docs' "Try it out" (tests/test_examples.py sends every one to the lists example's list, whose
member is the `member@example.com` account), and the problems each route answers, worded as
it answers them."""

from ..errors import example, invalid_example, problem_example
from ..lists.store import ListNotFound
from ..throttles import INVITATIONS_PER_OWNER, Throttled
from .access import MemberNotFound, OwnListInvitation
from .invitations import InvitationNotFound, TooManyMembers
from .members import MembershipNotFound, TooManySharedLists

UNKNOWN_ROLE = invalid_example(
    "A role that is neither editor nor viewer", {"role": ["Must be one of: editor, viewer."]}
)
SHARING_PROBLEMS = {
    404: {
        "listNotFound": problem_example(404, str(ListNotFound())),
        "memberNotFound": problem_example(404, str(MemberNotFound())),
        "invitationNotFound": problem_example(404, str(InvitationNotFound())),
        "membershipNotFound": problem_example(404, str(MembershipNotFound())),
    }
}
NEW_INVITATION = {
    "editor": example(
        "Invite someone to read and write the list's tasks (an account or not: the same answer)",
        {"email": "friend@example.com", "role": "editor"},
    ),
    "viewer": example(
        "Invite someone to read the list", {"email": "neighbour@example.com", "role": "viewer"}
    ),
}
NEW_INVITATION_PROBLEMS = {
    422: {
        "unknownRole": UNKNOWN_ROLE,
        "tooManyMembers": problem_example(
            422, str(TooManyMembers()), type="/problems/too-many-members"
        ),
    },
    429: {"throttled": problem_example(429, Throttled(INVITATIONS_PER_OWNER, 42).sentence)},
}
ROLE_CHANGE = {
    "viewer": example("Make a member a viewer", {"role": "viewer"}),
}
ROLE_CHANGE_PROBLEMS = {422: {"unknownRole": UNKNOWN_ROLE}}
ACCEPT_PROBLEMS = {
    422: {
        "ownList": problem_example(422, str(OwnListInvitation())),
        "tooManySharedLists": problem_example(
            422, str(TooManySharedLists()), type="/problems/too-many-shared-lists"
        ),
    }
}
