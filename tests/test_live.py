"""Live, through real gunicorn servers: waiting polls and event streams held without a thread,
woken by a write in another process (Redis), by polling when the channel is cut, ended on
revocation and drain, bounded per user and per worker."""

import http.client
import itertools
import logging
import random
import threading
import time

import pytest
import redis
from sqlalchemy import create_engine, text

from config import normalise_database_url
from server.wake_channel import CHANNEL, WakeChannel
from tests.servers import create_task, sign_in, wait_for
from tests.sse import EventStream, apply
from tests.tcp_proxy import TCPProxy

LOG = logging.getLogger(__name__)

# Wake-ups must be what delivers within these tests' bounds: no re-check comes sooner.
SLOW_RECHECKS = {"LIVE_HEARTBEAT_SECONDS": "15", "LIVE_FALLBACK_SECONDS": "15"}


def shared(redis_url: str, **settings) -> dict:
    return {"RATELIMIT_STORAGE_URI": redis_url, **settings}


def held_by(redis_url: str, user_id: str) -> int:
    """How many polls and streams the user holds, as the servers count them."""
    client = redis.Redis.from_url(redis_url)
    try:
        return client.zcount(f"todo:live:held:{user_id}", time.time(), "+inf")
    finally:
        client.close()


def first_cursor(server, user_id, headers) -> str:
    return server.call("GET", f"/api/{user_id}/changes", headers=headers)[2]["next"]


def poll_in_background(server, user_id, headers, cursor, wait=60) -> dict:
    answer = {}

    def poll():
        path = f"/api/{user_id}/changes?since={cursor}&wait={wait}"
        answer["status"], answer["headers"], answer["body"] = server.call(
            "GET", path, headers=headers, timeout=wait + 10
        )
        answer["at"] = time.monotonic()

    answer["thread"] = threading.Thread(target=poll, daemon=True)
    answer["thread"].start()
    return answer


def test_a_wait_with_nothing_new_answers_the_empty_page_after_n_seconds(database_url, servers):
    server = servers(database_url)
    user_id, headers = sign_in(server)
    cursor = first_cursor(server, user_id, headers)
    started = time.monotonic()
    status, _, page = server.call(
        "GET", f"/api/{user_id}/changes?since={cursor}&wait=1", headers=headers
    )
    assert status == 200
    assert time.monotonic() - started >= 1
    assert page["tasks"] == [] and page["has_more"] is False
    # the same place: the next poll from either cursor sees the same
    task = create_task(server, user_id, headers)
    for since in (cursor, page["next"]):
        later = server.call("GET", f"/api/{user_id}/changes?since={since}", headers=headers)[2]
        assert [each["id"] for each in later["tasks"]] == [task["id"]]


@pytest.mark.parametrize("pooled", [False, True], ids=["direct", "pgbouncer"])
def test_a_write_in_one_server_wakes_a_waiting_poll_and_a_stream_in_another(
    database_url, servers, redis_url, pooled, request
):
    if pooled:
        database_url = request.getfixturevalue("pgbouncer").url_for(database_url)
    settings = shared(redis_url, **SLOW_RECHECKS)
    first, second = servers(database_url, **settings), servers(database_url, **settings)
    user_id, headers = sign_in(first)
    cursor = first_cursor(first, user_id, headers)
    stream = EventStream(first, user_id, headers, last_id=cursor)
    assert stream.status == 200
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    answer = poll_in_background(first, user_id, headers, cursor)
    wait_for(lambda: held_by(redis_url, user_id) == 2)
    written = time.monotonic()
    task = create_task(second, user_id, headers)
    answer["thread"].join(20)
    assert answer["status"] == 200
    assert [each["id"] for each in answer["body"]["tasks"]] == [task["id"]]
    assert answer["at"] - written < 10  # a wake-up, not a re-check (15 s away)
    event = stream.next()
    assert time.monotonic() - written < 10
    assert [each["id"] for each in event.page["tasks"]] == [task["id"]]
    assert event.id == event.page["next"]
    assert stream.retry is not None
    stream.close()


def test_a_wake_up_is_sent_by_the_channels_own_thread_never_the_writers(redis_url):
    """A write's answer never waits on Redis: `publish` hands the keys over, and the
    channel's publisher thread sends them (server/wake_channel.py)."""
    heard = redis.Redis.from_url(redis_url).pubsub()
    heard.subscribe(CHANNEL)
    assert heard.get_message(timeout=5)["type"] == "subscribe"  # before anything is sent
    channel = WakeChannel(redis_url, [].extend, list, lambda call, *args: call(*args), LOG)
    sent_by = []
    send = channel.publisher.publish
    channel.publisher.publish = lambda *message: (
        sent_by.append(threading.get_ident()) or send(*message)
    )
    threading.Thread(target=channel.publishing, daemon=True).start()
    channel.publish(["a-user"])
    wait_for(lambda: sent_by)
    assert threading.get_ident() not in sent_by
    assert heard.get_message(timeout=5)["data"] == b"a-user"
    heard.close()


def test_on_sqlite_one_server_wakes_its_waiting_poll(sqlite_file_url, servers):
    # One worker: a write wakes its own waiting requests (no Redis, no other process).
    server = servers(sqlite_file_url, WEB_CONCURRENCY="1", **SLOW_RECHECKS)
    user_id, headers = sign_in(server)
    cursor = first_cursor(server, user_id, headers)
    answer = poll_in_background(server, user_id, headers, cursor)
    stream = EventStream(server, user_id, headers, last_id=cursor)
    time.sleep(0.5)  # the poll may still be read; it then sees the task at once anyway
    task = create_task(server, user_id, headers)
    answer["thread"].join(20)
    assert [each["id"] for each in answer["body"]["tasks"]] == [task["id"]]
    assert [each["id"] for each in stream.next().page["tasks"]] == [task["id"]]
    stream.close()


def test_revocation_ends_a_stream_saying_why(database_url, servers):
    server = servers(database_url, **SLOW_RECHECKS)
    user_id, headers = sign_in(server)
    stream = EventStream(server, user_id, headers)
    assert stream.next().page["tasks"] == []  # a first sync: where the stream starts
    assert server.call("POST", "/api/auth/logout", headers=headers)[0] == 204
    ended = stream.next()
    assert ended.event == "end" and ended.page["reason"] == "token_revoked"
    assert stream.next() is None  # and the server closes it
    stream.close()


def test_a_ticket_opens_one_stream_only(database_url, servers, redis_url):
    """On any worker: the nonce is spent in Redis (without it, in each worker's memory)."""
    server = servers(database_url, **shared(redis_url))
    user_id, headers = sign_in(server)
    ticket = server.call("POST", f"/api/{user_id}/changes/tickets", headers=headers)[2]
    assert "Bearer" not in ticket["stream"] and headers["Authorization"][7:] not in ticket["stream"]
    assert server.call("GET", ticket["stream"] + "&since=nonsense")[0] == 400  # not spent
    opened = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    opened.request("GET", ticket["stream"])
    assert opened.getresponse().status == 200
    status, _, problem = server.call("GET", ticket["stream"])
    assert status == 401 and "used already" in problem["detail"]
    opened.close()


def test_cutting_redis_still_delivers_within_the_fallback_interval(
    database_url, servers, redis_url
):
    target = redis.Redis.from_url(redis_url).connection_pool.connection_kwargs
    proxy = TCPProxy(target["port"], target["host"])
    proxy.start()
    through_proxy = f"redis://127.0.0.1:{proxy.port}/{target['db']}"
    settings = shared(through_proxy, LIVE_HEARTBEAT_SECONDS="15", LIVE_FALLBACK_SECONDS="1")
    first, second = servers(database_url, **settings), servers(database_url, **settings)
    user_id, headers = sign_in(first)
    cursor = first_cursor(first, user_id, headers)
    stream = EventStream(first, user_id, headers, last_id=cursor)
    answer = poll_in_background(first, user_id, headers, cursor)
    wait_for(lambda: held_by(redis_url, user_id) == 2)
    proxy.cut()
    written = time.monotonic()
    task = create_task(second, user_id, headers)
    answer["thread"].join(20)
    assert [each["id"] for each in answer["body"]["tasks"]] == [task["id"]]
    assert [each["id"] for each in stream.next().page["tasks"]] == [task["id"]]
    assert time.monotonic() - written < 10  # the fallback's pace (1 s), not a heartbeat's
    proxy.restore()
    stream.close()


def test_too_many_waiting_for_one_user_is_429_and_for_one_worker_503(
    database_url, servers, redis_url
):
    per_user = servers(database_url, **shared(redis_url, LIVE_PER_USER="2"))
    user_id, headers = sign_in(per_user)
    cursor = first_cursor(per_user, user_id, headers)
    waiting = [poll_in_background(per_user, user_id, headers, cursor, wait=5) for _ in range(2)]
    wait_for(lambda: held_by(redis_url, user_id) == 2)
    status, answer_headers, problem = per_user.call(
        "GET", f"/api/{user_id}/changes?since={cursor}&wait=5", headers=headers
    )
    assert status == 429 and int(answer_headers["Retry-After"]) >= 1
    assert problem["status"] == 429
    for each in waiting:
        each["thread"].join(20)
        assert each["status"] == 200

    per_worker = servers(database_url, WEB_CONCURRENCY="1", LIVE_PER_WORKER="1")
    user_id, headers = sign_in(per_worker)
    stream = EventStream(per_worker, user_id, headers)
    assert stream.status == 200
    ticket = per_worker.call("POST", f"/api/{user_id}/changes/tickets", headers=headers)[2]
    status, answer_headers, _ = per_worker.call("GET", ticket["stream"])
    assert status == 503 and int(answer_headers["Retry-After"]) >= 1
    stream.close()


def test_a_drain_ends_every_stream_with_a_retry_hint_within_drain_seconds(database_url, servers):
    server = servers(database_url, DRAIN_SECONDS="5", **SLOW_RECHECKS)
    user_id, headers = sign_in(server)
    cursor = first_cursor(server, user_id, headers)
    streams = [EventStream(server, user_id, headers, last_id=cursor) for _ in range(3)]
    answer = poll_in_background(server, user_id, headers, cursor)
    time.sleep(0.5)  # let the poll arrive (if it has not, it is answered at once anyway)
    server.process.send_signal(15)
    signalled = time.monotonic()
    for stream in streams:
        ended = stream.next()
        assert ended.event == "end" and ended.page["reason"] == "server_draining"
        assert stream.retry is not None
        assert stream.next() is None
        stream.close()
    answer["thread"].join(20)
    assert answer["status"] == 200 and answer["body"]["tasks"] == []
    assert time.monotonic() - signalled < 5
    assert server.process.wait(40) == 0


def test_resumed_streams_miss_and_repeat_nothing_under_eight_writers(
    database_url, servers, redis_url, pgbouncer
):
    """Through PgBouncer in transaction mode, as in production behind a pooler."""
    settings = shared(redis_url, LIVE_HEARTBEAT_SECONDS="1")
    pooled = pgbouncer.url_for(database_url)
    first, second = servers(pooled, **settings), servers(pooled, **settings)
    user_id, headers = sign_in(first)
    writing = threading.Event()
    writing.set()

    def write(index):
        mine = []
        while writing.is_set():
            choice = random.random()
            if not mine or choice < 0.5:
                mine.append(create_task(second, user_id, headers, f"w{index}")["id"])
            elif choice < 0.8:
                task_id = random.choice(mine)
                body = {"title": f"w{index} {random.random()}"}
                second.call("PATCH", f"/api/{user_id}/tasks/{task_id}", body, headers)
            else:
                task_id = mine.pop(random.randrange(len(mine)))
                second.call("DELETE", f"/api/{user_id}/tasks/{task_id}", headers=headers)

    writers = [threading.Thread(target=write, args=(i,), daemon=True) for i in range(8)]
    for writer in writers:
        writer.start()
    results = [None] * 3

    def follow(slot):
        state, seen, last_id = {}, set(), None
        for _ in range(20):
            stream = EventStream(first, user_id, headers, last_id=last_id)
            for _ in range(random.randint(1, 3)):
                event = stream.next()
                assert event is not None and event.event == "message"
                for task in event.page["tasks"]:
                    assert (task["id"], task["version"]) not in seen, "repeated"
                    seen.add((task["id"], task["version"]))
                apply(state, event.page)
                last_id = event.id
            stream.close()  # cut, possibly mid-event
        results[slot] = (state, last_id)

    followers = [threading.Thread(target=follow, args=(i,)) for i in range(3)]
    for follower in followers:
        follower.start()
    for follower in followers:
        follower.join(300)
    writing.clear()
    for writer in writers:
        writer.join(30)
    engine = create_engine(normalise_database_url(database_url))
    with engine.connect() as connection:
        stored = dict(
            connection.execute(
                text("SELECT id, version FROM tasks WHERE user_id = :u AND deleted_at IS NULL"),
                {"u": user_id},
            ).all()
        )
    engine.dispose()
    stored = {str(task_id): version for task_id, version in stored.items()}
    for state, last_id in results:
        stream = EventStream(first, user_id, headers, last_id=last_id)
        deadline = time.monotonic() + 30
        while state != stored:
            assert time.monotonic() < deadline, "the stream never caught up"
            event = stream.next()
            assert event is not None
            apply(state, event.page)
        stream.close()
    assert stored


def test_an_idle_stream_sends_a_heartbeat_comment(database_url, servers):
    server = servers(database_url, LIVE_HEARTBEAT_SECONDS="1")
    user_id, headers = sign_in(server)
    stream = EventStream(server, user_id, headers)
    assert stream.next().page["tasks"] == []  # the first sync
    line = stream.response.readline()  # nothing changes: what comes next is a heartbeat
    assert line == b": heartbeat\n"
    stream.close()


def test_many_idle_streams_each_hear_a_heartbeat_within_the_interval(database_url, servers):
    """The streams' periodic steps are paced (server/live.py), never late: 60 idle streams
    on one worker each get a heartbeat at least every LIVE_HEARTBEAT_SECONDS."""
    server = servers(
        database_url, LIVE_HEARTBEAT_SECONDS="1", LIVE_PER_USER="100", WEB_CONCURRENCY="1"
    )
    user_id, headers = sign_in(server)
    streams = [EventStream(server, user_id, headers) for _ in range(60)]
    for stream in streams:
        assert stream.next().page["tasks"] == []  # the first sync
    heard = {stream: [] for stream in streams}
    other_lines = []  # what a reader got that is not a heartbeat (a thread cannot fail the test)
    until = time.monotonic() + 5

    def listen(stream):
        while time.monotonic() < until:
            lines = stream.response.readline(), stream.response.readline()
            if lines != (b": heartbeat\n", b"\n"):
                other_lines.append(lines)
                return
            heard[stream].append(time.monotonic())

    listeners = [threading.Thread(target=listen, args=(stream,)) for stream in streams]
    for listener in listeners:
        listener.start()
    for listener in listeners:
        listener.join(10)
    for stream in streams:
        stream.close()
    assert other_lines == []
    gaps = [
        later - earlier for times in heard.values() for earlier, later in itertools.pairwise(times)
    ]
    assert len(gaps) >= 60 * 3
    assert min(len(times) for times in heard.values()) >= 3  # no stream left silent
    assert max(gaps) < 1.2  # the interval, and the slack of this test's own 60 readers
