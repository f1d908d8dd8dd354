"""A member's waits and streams, through real gunicorn servers: woken by a write to a list
shared with them in another process (the owner's key, followed from the join on), and a
stream that ends after the page that takes a shared list away, saying why."""

import time

import pytest

from tests.servers import sign_in, wait_for
from tests.sse import EventStream
from tests.test_live import SLOW_RECHECKS, first_cursor, held_by, poll_in_background, shared


def share(server, owner, member) -> str:
    """The owner's new list, shared with the member (invited and accepted); its id."""
    (owner_id, owner_auth), (member_id, member_auth) = owner, member
    status, _, listed = server.call("POST", f"/api/{owner_id}/lists", {"name": "Ours"}, owner_auth)
    assert status == 201
    _, _, me = server.call("GET", "/api/auth/me", headers=member_auth)
    invite = {"email": me["email"], "role": "editor"}
    path = f"/api/{owner_id}/lists/{listed['id']}/invitations"
    status, _, invitation = server.call("POST", path, invite, owner_auth)
    assert status == 201
    accept = f"/api/{member_id}/invitations/{invitation['id']}/accept"
    assert server.call("POST", accept, headers=member_auth)[0] == 204
    return listed["id"]


@pytest.mark.parametrize("pooled", [False, True], ids=["direct", "pgbouncer"])
def test_an_owners_write_in_one_server_wakes_a_members_poll_and_stream_in_another(
    database_url, servers, redis_url, pooled, request
):
    """The member's stream opens before the join: the join's page makes it follow the owner."""
    if pooled:
        database_url = request.getfixturevalue("pgbouncer").url_for(database_url)
    settings = shared(redis_url, **SLOW_RECHECKS)
    first, second = servers(database_url, **settings), servers(database_url, **settings)
    owner, member = sign_in(first), sign_in(first)
    (owner_id, owner_auth), (member_id, member_auth) = owner, member
    stream = EventStream(first, member_id, member_auth)
    assert stream.next().page["lists"] == []  # a first sync: nothing shared yet
    list_id = share(first, owner, member)
    joined = stream.next()
    assert [each["id"] for each in joined.page["lists"]] == [list_id]
    answer = poll_in_background(first, member_id, member_auth, joined.id)
    wait_for(lambda: held_by(redis_url, member_id) == 2)
    written = time.monotonic()
    body = {"title": "Milk", "list_id": list_id}
    status, _, task = second.call("POST", f"/api/{owner_id}/tasks", body, owner_auth)
    assert status == 201
    answer["thread"].join(20)
    assert answer["status"] == 200
    assert [each["id"] for each in answer["body"]["tasks"]] == [task["id"]]
    assert answer["at"] - written < 10  # a wake-up, not a re-check (15 s away)
    event = stream.next()
    assert time.monotonic() - written < 10
    assert [each["id"] for each in event.page["tasks"]] == [task["id"]]
    stream.close()


def test_a_removal_ends_the_members_stream_after_the_removal_saying_why(
    database_url, servers, redis_url
):
    settings = shared(redis_url, **SLOW_RECHECKS)
    first, second = servers(database_url, **settings), servers(database_url, **settings)
    owner, member = sign_in(first), sign_in(first)
    (owner_id, owner_auth), (member_id, member_auth) = owner, member
    list_id = share(first, owner, member)
    body = {"title": "Milk", "list_id": list_id}
    status, _, task = first.call("POST", f"/api/{owner_id}/tasks", body, owner_auth)
    assert status == 201
    stream = EventStream(first, member_id, member_auth)
    assert [each["id"] for each in stream.next().page["tasks"]] == [task["id"]]
    written = time.monotonic()
    removal = f"/api/{owner_id}/lists/{list_id}/members/{member_id}"
    assert second.call("DELETE", removal, headers=owner_auth)[0] == 204
    removed = stream.next()
    assert time.monotonic() - written < 10
    assert [(each["id"], each["reason"]) for each in removed.page["deleted"]] == [
        (task["id"], "removed")
    ]
    assert [each["reason"] for each in removed.page["deleted_lists"]] == ["removed"]
    ended = stream.next()
    assert ended.event == "end" and ended.page["reason"] == "access_lost"
    assert stream.next() is None
    stream.close()


def test_a_members_stream_resumed_from_a_cursor_is_woken_by_the_owners_write(
    database_url, servers, redis_url
):
    """Reopened from where it was, with nothing new, the stream follows the owners the cursor
    follows from its first moment, not only after its next page."""
    settings = shared(redis_url, **SLOW_RECHECKS)
    first, second = servers(database_url, **settings), servers(database_url, **settings)
    owner, member = sign_in(first), sign_in(first)
    (owner_id, owner_auth), (member_id, member_auth) = owner, member
    list_id = share(first, owner, member)
    stream = EventStream(first, member_id, member_auth)
    cursor = stream.next().id  # a first sync, with the shared list
    stream.close()
    resumed = EventStream(first, member_id, member_auth, last_id=cursor)
    wait_for(lambda: held_by(redis_url, member_id) == 1)
    written = time.monotonic()
    body = {"title": "Milk", "list_id": list_id}
    status, _, task = second.call("POST", f"/api/{owner_id}/tasks", body, owner_auth)
    assert status == 201
    event = resumed.next()
    assert time.monotonic() - written < 10  # a wake-up, not a re-check (15 s away)
    assert [each["id"] for each in event.page["tasks"]] == [task["id"]]
    resumed.close()


def test_a_member_leaving_wakes_the_owners_poll_with_the_tasks_unassigned(
    database_url, servers, redis_url
):
    """Leaving is the member's write at their own URL, and it changes the owner's tasks
    (assigned to them, now to nobody): the owner's held poll is woken too."""
    settings = shared(redis_url, **SLOW_RECHECKS)
    first, second = servers(database_url, **settings), servers(database_url, **settings)
    owner, member = sign_in(first), sign_in(first)
    (owner_id, owner_auth), (member_id, member_auth) = owner, member
    list_id = share(first, owner, member)
    body = {"title": "Milk", "list_id": list_id, "assignee_id": member_id}
    status, _, task = first.call("POST", f"/api/{owner_id}/tasks", body, owner_auth)
    assert status == 201 and task["assignee_id"] == member_id
    answer = poll_in_background(
        first, owner_id, owner_auth, first_cursor(first, owner_id, owner_auth)
    )
    wait_for(lambda: held_by(redis_url, owner_id) == 1)
    written = time.monotonic()
    leave = f"/api/{member_id}/memberships/{owner_id}/{list_id}"
    assert second.call("DELETE", leave, headers=member_auth)[0] == 204
    answer["thread"].join(20)
    assert answer["status"] == 200
    assert [(each["id"], each["assignee_id"]) for each in answer["body"]["tasks"]] == [
        (task["id"], None)
    ]
    assert answer["at"] - written < 10  # a wake-up, not a re-check (15 s away)
