"""Shared lists, membership: an owner invites by email, the invitee accepts or declines, the
owner changes roles and removes members, a member leaves; both sides of every membership
stay equal, and what ends a list or an account ends its memberships."""

import random
import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, assert_problem
from tests.threads import at_once
from todo.columns import utcnow
from todo.extensions import db
from todo.lists.models import lists
from todo.sharing.models import invitations, list_invitations, list_members, memberships


@pytest.fixture
def shared(client, owner):
    """A list of the owner's, with a task in it."""
    base = f"/api/{owner['user_id']}"
    listed = client.post(f"{base}/lists", json={"name": "Groceries"}, headers=owner["headers"])
    list_id = listed.get_json()["id"]
    task = {"title": "Milk", "list_id": list_id}
    assert client.post(f"{base}/tasks", json=task, headers=owner["headers"]).status_code == 201
    return list_id


def invite(client, owner, list_id, email, role="editor"):
    url = f"/api/{owner['user_id']}/lists/{list_id}/invitations"
    return client.post(url, json={"email": email, "role": role}, headers=owner["headers"])


def my_invitations(client, user):
    return client.get(f"/api/{user['user_id']}/invitations", headers=user["headers"])


def accept(client, user, invitation_id):
    url = f"/api/{user['user_id']}/invitations/{invitation_id}/accept"
    return client.post(url, headers=user["headers"])


def join(client, owner, member, list_id, role="editor"):
    """`member` invited to the owner's list and accepting."""
    assert invite(client, owner, list_id, member["email"], role).status_code == 201
    [received] = [
        one for one in my_invitations(client, member).get_json() if one["list_id"] == list_id
    ]
    assert accept(client, member, received["id"]).status_code == 204


def lists_of(client, user):
    return client.get(f"/api/{user['user_id']}/lists", headers=user["headers"]).get_json()


def members_url(owner, list_id):
    return f"/api/{owner['user_id']}/lists/{list_id}/members"


def both_sides(app):
    """Every membership as the owners' side has it, and as the members' side has it."""
    with app.app_context():
        owners = db.session.execute(
            select(list_members.c.user_id, list_members.c.list_id, list_members.c.member_id)
        ).all()
        members = db.session.execute(
            select(memberships.c.owner_id, memberships.c.list_id, memberships.c.user_id)
        ).all()
        db.session.rollback()
    return sorted(map(tuple, owners)), sorted(map(tuple, members))


def test_an_accepted_invitation_shares_the_list_with_its_owner_and_role(
    client, app, owner, member, shared
):
    invited = invite(client, owner, shared, "  Member@Example.com ", "viewer")
    assert invited.status_code == 201
    body = invited.get_json()
    assert (body["list_id"], body["email"], body["role"]) == (
        shared,
        "member@example.com",
        "viewer",
    )
    [received] = my_invitations(client, member).get_json()
    assert received["id"] == body["id"]
    assert (received["owner_id"], received["owner_email"]) == (owner["user_id"], owner["email"])
    assert (received["list_name"], received["role"]) == ("Groceries", "viewer")
    assert accept(client, member, body["id"]).status_code == 204
    assert my_invitations(client, member).get_json() == []
    [listed] = lists_of(client, member)
    assert (listed["id"], listed["owner_id"], listed["role"]) == (
        shared,
        owner["user_id"],
        "viewer",
    )
    assert (listed["name"], listed["task_count"]) == ("Groceries", 1)
    [own] = lists_of(client, owner)
    assert (own["owner_id"], own["role"]) == (owner["user_id"], "owner")
    [one] = client.get(members_url(owner, shared), headers=owner["headers"]).get_json()
    assert (one["member_id"], one["role"]) == (member["user_id"], "viewer")
    pending = f"/api/{owner['user_id']}/lists/{shared}/invitations"
    assert client.get(pending, headers=owner["headers"]).get_json() == []
    memberships_url = f"/api/{member['user_id']}/memberships"
    [mine] = client.get(memberships_url, headers=member["headers"]).get_json()
    assert (mine["owner_id"], mine["list_id"], mine["role"]) == (owner["user_id"], shared, "viewer")
    assert both_sides(app)[0] == both_sides(app)[1]


def test_an_invitation_answers_the_same_whether_the_email_has_an_account(
    client, owner, member, shared
):
    answers = [invite(client, owner, shared, email) for email in (member["email"], "no@one.org")]
    assert [answer.status_code for answer in answers] == [201, 201]
    assert sorted(answers[0].headers.keys()) == sorted(answers[1].headers.keys())
    bodies = [answer.get_json() for answer in answers]
    for body in bodies:
        del body["id"], body["created_at"], body["email"]
    assert bodies[0] == bodies[1]


def test_an_invitation_takes_the_same_time_whether_the_email_has_an_account(
    client, make_user, owner, shared
):
    """The route never looks the email up: the medians of invitations to emails with and
    without accounts differ by noise only."""
    for n in range(8):
        make_user(f"known{n}@example.com")

    def median(prefix):
        spent = []
        for n in range(8):
            started = time.perf_counter()
            assert invite(client, owner, shared, f"{prefix}{n}@example.com").status_code == 201
            spent.append(time.perf_counter() - started)
        return statistics.median(spent)

    known, unknown = median("known"), median("unknown")
    assert abs(known - unknown) < max(0.5 * min(known, unknown), 0.02), (known, unknown)


def test_an_invitation_waits_for_an_account_made_later(client, make_user, owner, shared):
    assert invite(client, owner, shared, "later@example.com").status_code == 201
    later = make_user("later@example.com")
    [received] = my_invitations(client, later).get_json()
    assert accept(client, later, received["id"]).status_code == 204
    assert [one["id"] for one in lists_of(client, later)] == [shared]


def test_inviting_a_pending_email_again_changes_its_role(client, owner, member, shared):
    first = invite(client, owner, shared, member["email"], "viewer").get_json()
    again = invite(client, owner, shared, member["email"], "editor").get_json()
    assert (again["id"], again["role"]) == (first["id"], "editor")
    [received] = my_invitations(client, member).get_json()
    assert received["role"] == "editor"


def test_a_declined_or_cancelled_invitation_is_gone_from_both_sides(client, owner, member, shared):
    pending = f"/api/{owner['user_id']}/lists/{shared}/invitations"
    first = invite(client, owner, shared, member["email"]).get_json()
    decline = f"/api/{member['user_id']}/invitations/{first['id']}/decline"
    assert client.post(decline, headers=member["headers"]).status_code == 204
    assert client.get(pending, headers=owner["headers"]).get_json() == []
    second = invite(client, owner, shared, member["email"]).get_json()
    cancel = f"{pending}/{second['id']}"
    assert client.delete(cancel, headers=owner["headers"]).status_code == 204
    assert my_invitations(client, member).get_json() == []
    assert_problem(accept(client, member, second["id"]), 404)
    assert lists_of(client, member) == []


def test_a_role_change_holds_on_both_sides(client, app, owner, member, shared):
    join(client, owner, member, shared)
    url = f"{members_url(owner, shared)}/{member['user_id']}"
    changed = client.patch(url, json={"role": "viewer"}, headers=owner["headers"])
    assert changed.status_code == 200 and changed.get_json()["role"] == "viewer"
    assert lists_of(client, member)[0]["role"] == "viewer"
    refused = client.patch(url, json={"role": "owner"}, headers=owner["headers"])
    assert assert_problem(refused, 422)["errors"] == {"role": ["Must be one of: editor, viewer."]}


def test_a_removed_or_leaving_member_no_longer_has_the_list(
    client, app, make_user, owner, member, shared
):
    join(client, owner, member, shared)
    url = f"{members_url(owner, shared)}/{member['user_id']}"
    assert client.delete(url, headers=owner["headers"]).status_code == 204
    assert lists_of(client, member) == []
    assert_problem(client.delete(url, headers=owner["headers"]), 404)
    join(client, owner, member, shared)
    leave = f"/api/{member['user_id']}/memberships/{owner['user_id']}/{shared}"
    assert client.delete(leave, headers=member["headers"]).status_code == 204
    assert lists_of(client, member) == []
    assert client.get(members_url(owner, shared), headers=owner["headers"]).get_json() == []
    assert_problem(client.delete(leave, headers=member["headers"]), 404)
    assert both_sides(app) == ([], [])


def test_only_the_owner_manages_members_and_invitations(client, owner, member, shared):
    join(client, owner, member, shared)
    for method, path in (
        ("GET", members_url(owner, shared)),
        ("POST", f"/api/{owner['user_id']}/lists/{shared}/invitations"),
        ("DELETE", f"{members_url(owner, shared)}/{member['user_id']}"),
    ):
        body = {"email": "x@example.com", "role": "editor"}
        assert_problem(client.open(path, method=method, json=body, headers=member["headers"]), 403)
    # the member's own URL names no list of theirs
    mine = f"/api/{member['user_id']}/lists/{shared}/invitations"
    assert_problem(client.post(mine, json=body, headers=member["headers"]), 404)


def test_one_cannot_join_a_list_of_ones_own(client, owner, shared):
    invitation = invite(client, owner, shared, owner["email"]).get_json()
    assert_problem(accept(client, owner, invitation["id"]), 422)


def test_a_list_has_at_most_25_members_and_invitations(client, owner, member, shared):
    join(client, owner, member, shared)
    for n in range(24):
        assert invite(client, owner, shared, f"guest{n}@example.com").status_code == 201
    refused = invite(client, owner, shared, "one-too-many@example.com")
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    assert refused.get_json()["type"] == "/problems/too-many-members"
    # a pending email invited again is no new place
    assert invite(client, owner, shared, "guest3@example.com", "viewer").status_code == 201


def test_invitations_past_the_daily_cap_are_429_with_retry_after(make_app, owner, shared):
    client = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_INVITATIONS_PER_OWNER="2 per day"
    ).test_client()
    assert [invite(client, owner, shared, f"g{n}@example.com").status_code for n in range(2)] == [
        201,
        201,
    ]
    refused = invite(client, owner, shared, "g3@example.com")
    assert_problem(refused, 429)
    assert 0 < int(refused.headers["Retry-After"]) <= 86400


def test_a_purged_list_ends_its_memberships_and_invitations(client, app, owner, member, shared):
    join(client, owner, member, shared)
    assert invite(client, owner, shared, "pending@example.com").status_code == 201
    url = f"/api/{owner['user_id']}/lists/{shared}"
    assert client.delete(url, headers=owner["headers"]).status_code == 204
    assert lists_of(client, member) == []  # in the trash: not shown to members
    assert client.post(f"{url}/restore", headers=owner["headers"]).status_code == 200
    assert [one["id"] for one in lists_of(client, member)] == [shared]
    assert client.delete(f"{url}?purge=true", headers=owner["headers"]).status_code == 204
    assert both_sides(app) == ([], [])
    with app.app_context():
        assert db.session.execute(select(invitations)).all() == []
        assert db.session.execute(select(list_invitations)).all() == []


def test_a_shared_list_expiring_from_the_trash_ends_its_memberships(
    client, app, owner, member, shared
):
    join(client, owner, member, shared)
    assert invite(client, owner, shared, "pending@example.com").status_code == 201
    url = f"/api/{owner['user_id']}/lists/{shared}"
    assert client.delete(url, headers=owner["headers"]).status_code == 204
    with app.app_context():
        long_ago = utcnow() - timedelta(days=app.config["TRASH_RETENTION_DAYS"] + 1)
        db.session.execute(lists.update().values(deleted_at=long_ago))
        db.session.commit()
    purged = app.test_cli_runner().invoke(args=["todo", "purge"])
    assert purged.exit_code == 0, purged.output
    assert "1 expired lists" in purged.output
    assert both_sides(app) == ([], [])
    with app.app_context():
        assert db.session.execute(select(invitations)).all() == []
    assert my_invitations(client, member).get_json() == []


def test_account_deletion_ends_what_it_shared_and_what_was_shared_with_it(
    client, app, make_user, owner, member, shared
):
    join(client, owner, member, shared)
    member_list = client.post(
        f"/api/{member['user_id']}/lists", json={"name": "Theirs"}, headers=member["headers"]
    ).get_json()["id"]
    join(client, member, owner, member_list)
    assert invite(client, owner, shared, "pending@example.com").status_code == 201
    gone = client.delete("/api/auth/me", json={"password": PASSWORD}, headers=member["headers"])
    assert gone.status_code == 204
    assert both_sides(app) == ([], [])
    assert [one["id"] for one in lists_of(client, owner)] == [shared]
    assert client.get(members_url(owner, shared), headers=owner["headers"]).get_json() == []
    check = {"password": PASSWORD}
    assert client.delete("/api/auth/me", json=check, headers=owner["headers"]).status_code == 204
    with app.app_context():
        assert db.session.execute(select(invitations)).all() == []


def test_the_lists_etag_moves_when_a_shared_list_changes(client, owner, member, shared):
    lists_url = f"/api/{member['user_id']}/lists"
    before = client.get(lists_url, headers=member["headers"]).headers["ETag"]
    join(client, owner, member, shared)
    joined = client.get(lists_url, headers=member["headers"])
    assert joined.headers["ETag"] != before
    etag = joined.headers["ETag"]
    again = client.get(lists_url, headers={**member["headers"], "If-None-Match": etag})
    assert again.status_code == 304
    renamed = client.patch(
        f"/api/{owner['user_id']}/lists/{shared}", json={"name": "Food"}, headers=owner["headers"]
    )
    assert renamed.status_code == 200
    changed = client.get(lists_url, headers={**member["headers"], "If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()[0]["name"] == "Food"


def test_20_concurrent_membership_sequences_leave_both_sides_equal(
    app, client, make_user, owner, database_kind
):
    """Invite, accept, remove or leave, 20 sequences at once over 4 lists and 5 members."""
    if database_kind == "sqlite":
        pytest.skip("SQLite runs one writer at a time: nothing interleaves")
    base = f"/api/{owner['user_id']}"
    list_ids = [
        client.post(f"{base}/lists", json={"name": f"L{n}"}, headers=owner["headers"]).get_json()[
            "id"
        ]
        for n in range(4)
    ]
    people = [make_user(f"m{n}@example.com") for n in range(5)]
    rng = random.Random(38)
    plans = [(rng.choice(list_ids), rng.choice(people), rng.random() < 0.5) for _ in range(20)]
    counter = iter(range(20))

    def sequence(one):
        list_id, person, removed = plans[next(counter)]
        invited = invite(one, owner, list_id, person["email"])
        if invited.status_code != 201:
            return invited.status_code
        accept(one, person, invited.get_json()["id"])
        if removed:
            one.delete(
                f"{members_url(owner, list_id)}/{person['user_id']}", headers=owner["headers"]
            )
        else:
            leave = f"/api/{person['user_id']}/memberships/{owner['user_id']}/{list_id}"
            one.delete(leave, headers=person["headers"])
        return 201

    answers = at_once(app, 20, sequence)
    assert set(answers) == {201}
    owners_side, members_side = both_sides(app)
    assert owners_side == members_side
